import * as zlib from 'zlib';
import { UserError } from '../util/errors';
import type { PieceSource } from './byte-source';
import { u16le, u32le } from './bytes';
import { CHUNK_SIZE, type ChunkReader } from './chunk-reader';

const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/**
 * Streaming gunzip of the compressed file read by the window `input`. The gzip framing is read
 * here rather than by zlib (raw inflate per member) so that, like gunzip, it can take several
 * members (`cat a.gz b.gz`), stop at zero padding, warn about trailing bytes and check each
 * member's length; the CRC is not checked (Node 20 has no crc32).
 *
 * Inflating is zlib's public stream API (StreamGunzip below): Node 20 has no public synchronous
 * streaming inflate, and driving zlib's native handle directly (as minizlib does) is what a Node
 * upgrade would break. It runs on libuv's thread pool beside the parser, so `spymate extract`
 * keeps its packets/s at some 5-7 % more CPU (docs/traces.md, "gzip").
 */
export function openGunzip(input: ChunkReader, name: string): PieceSource {
  return new StreamGunzip(input, name);
}

/** The framing around each member's deflate data (RFC 1952), read from the compressed file. */
class Members {
  readonly warnings: string[] = [];
  /** members begun */
  count = 0;
  /** bytes inflated from the current member, for its length check */
  out = 0;

  constructor(
    readonly input: ChunkReader,
    private readonly name: string,
  ) {}

  /** Reads a member header; false when the file ends inside it. */
  readHeader(): boolean {
    const c = this.input;
    if (!c.ensure(10)) return this.cutOff();
    const b = c.buf;
    const p = c.pos;
    if (b[p] !== 0x1f || b[p + 1] !== 0x8b || b[p + 2] !== 8) {
      throw new UserError(
        `${this.name}: gzip member ${this.count + 1} at byte ${c.offset} has a bad header; ` +
          'decompress it with gunzip to see how much is recoverable',
      );
    }
    const flags = b[p + 3];
    c.pos += 10;
    if (flags & FEXTRA) {
      if (!c.ensure(2)) return this.cutOff();
      const xlen = u16le(c.buf, c.pos);
      c.pos += 2;
      if (c.skip(xlen) > 0) return this.cutOff();
    }
    if ((flags & FNAME && !this.skipZeroTerminated()) || (flags & FCOMMENT && !this.skipZeroTerminated()))
      return this.cutOff();
    if (flags & FHCRC && c.skip(2) > 0) return this.cutOff();
    this.count++;
    this.out = 0;
    return true;
  }

  private skipZeroTerminated(): boolean {
    const c = this.input;
    for (;;) {
      if (c.available === 0 && !c.ensure(1)) return false;
      const z = c.buf.indexOf(0, c.pos);
      if (z >= 0 && z < c.end) {
        c.pos = z + 1;
        return true;
      }
      c.pos = c.end;
    }
  }

  /**
   * After a member's deflate data (input at its trailer): checks the trailer and reads the next
   * member's header; false at the end of the gzip data: the file's end, zero padding, or junk.
   */
  next(): boolean {
    const c = this.input;
    if (!c.ensure(8)) return this.cutOff();
    const size = u32le(c.buf, c.pos + 4);
    if (size !== this.out % 2 ** 32) {
      throw new UserError(
        `${this.name}: gzip member ${this.count} says it holds ${size} bytes but inflates to ${this.out} ` +
          `(trailer at byte ${c.offset}); the file is damaged — decompress it with gunzip to see how much is recoverable`,
      );
    }
    c.pos += 8;
    if (!c.ensure(1)) return false;
    if (c.ensure(2) && c.buf[c.pos] === 0x1f && c.buf[c.pos + 1] === 0x8b) return this.readHeader();
    const start = c.offset;
    // gzip and gunzip accept zero padding after the last member (tape blocks); other bytes are junk.
    do {
      for (let i = c.pos; i < c.end; i++) {
        if (c.buf[i] !== 0) {
          this.warnings.push(`${this.name}: bytes after the end of the gzip data (from byte ${start}) were ignored`);
          return false;
        }
      }
      c.pos = c.end;
    } while (c.ensure(1));
    return false;
  }

  cutOff(): false {
    this.warnings.push(
      `${this.name}: compressed data cut off at byte ${this.input.offset + this.input.available} of the gzip file; what came before it was read`,
    );
    return false;
  }

  damaged(message: string): UserError {
    return new UserError(
      `${this.name}: gzip data damaged near byte ${this.input.offset} (${message}); ` +
        'decompress it with gunzip to see how much is recoverable',
    );
  }
}

/** Inflated bytes held, taken or not, before zlib is paused: memory stays bounded whatever the trace length. */
const HELD = 2 * CHUNK_SIZE;

/**
 * Inflates through zlib's public stream API: on libuv's thread pool, a piece of 1 MiB at a time
 * and about one piece ahead of the reader, which waits (ready()) only when it has caught up. The
 * compressed file is written to zlib a window at a time; where a member's deflate data ends is
 * what zlib consumed of it (`bytesWritten`).
 */
class StreamGunzip implements PieceSource {
  private readonly gz: Members;
  private inflate: zlib.InflateRaw | null = null;
  private readonly pieces: Buffer[] = [];
  private held = 0;
  /** zlib has seen the end of the current member's deflate data: its output is all in `pieces` or in the stream */
  private memberEnded = false;
  /** the compressed file has ended: everything in it was written to zlib */
  private inputEnded = false;
  private done = false;
  private failure: UserError | null = null;
  private wake: (() => void) | null = null;

  constructor(input: ChunkReader, name: string) {
    this.gz = new Members(input, name);
    if (this.gz.readHeader()) this.startMember();
    else this.done = true;
  }

  get warnings(): string[] {
    return this.gz.warnings;
  }

  take(): Buffer | null | undefined {
    for (;;) {
      const piece = this.pieces.shift();
      const inflate = this.inflate;
      if (piece) this.held -= piece.length;
      if (inflate && this.held < HELD && inflate.isPaused()) inflate.resume();
      if (piece) return piece;
      if (this.failure) throw this.failure;
      if (this.done) return null;
      if (this.inflating()) return undefined;
      this.endMember();
    }
  }

  ready(): Promise<void> {
    if (this.pieces.length > 0 || this.failure || this.done || !this.inflating()) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  /** zlib may still give pieces of the current member. */
  private inflating(): boolean {
    return !(this.memberEnded || this.inputEnded) || this.inflate!.readableLength > 0;
  }

  private wakeUp(): void {
    const wake = this.wake;
    this.wake = null;
    if (wake) wake();
  }

  private startMember(): void {
    const inflate = zlib.createInflateRaw({ chunkSize: CHUNK_SIZE });
    this.inflate = inflate;
    this.memberEnded = false;
    inflate.on('data', (piece: Buffer) => {
      this.pieces.push(piece);
      this.held += piece.length;
      this.gz.out += piece.length;
      if (this.held >= HELD) inflate.pause();
      this.wakeUp();
    });
    inflate.on('error', (err: Error) => {
      if (inflate !== this.inflate) return;
      this.failure = this.gz.damaged(err.message);
      this.wakeUp();
    });
    this.feed(inflate);
  }

  /** Writes the compressed bytes at hand to zlib; they stay untouched until it has consumed them. */
  private feed(inflate: zlib.InflateRaw): void {
    const c = this.gz.input;
    if (c.available === 0 && !c.ensure(1)) {
      this.inputEnded = true;
      this.wakeUp();
      return;
    }
    const len = c.available;
    const before = inflate.bytesWritten;
    inflate.write(c.buf.subarray(c.pos, c.end), (err) => {
      if (err || inflate !== this.inflate) return;
      const consumed = inflate.bytesWritten - before;
      c.pos += consumed;
      // zlib leaves input unconsumed only past the end of the deflate data.
      if (consumed < len) {
        this.memberEnded = true;
        this.wakeUp();
      } else this.feed(inflate);
    });
  }

  /** The member's output is all taken: on to the next member, or the end. */
  private endMember(): void {
    this.inflate!.destroy();
    this.inflate = null;
    // All the input went in and the deflate data did not end: the file was cut inside it.
    if (this.memberEnded && this.gz.next()) this.startMember();
    else {
      if (!this.memberEnded) this.gz.cutOff();
      this.done = true;
    }
  }

  close(): void {
    this.inflate?.destroy();
    this.inflate = null;
    this.done = true;
    this.gz.input.close();
  }
}
