import * as zlib from 'zlib';
import { UserError } from '../util/errors';
import type { ByteSource } from './byte-source';
import { u16le, u32le } from './bytes';
import { ChunkReader } from './chunk-reader';

/** The native handle behind a zlib stream, driven synchronously. */
interface ZlibHandle {
  writeSync(
    flush: number,
    input: Buffer,
    inOff: number,
    inLen: number,
    output: Buffer,
    outOff: number,
    outLen: number,
  ): void;
  reset(): void;
  onerror: (message: string, errno: number) => void;
}

const Z_BUF_ERROR = -5;
const IN_CHUNK = 64 * 1024;
const FHCRC = 2;
const FEXTRA = 4;
const FNAME = 8;
const FCOMMENT = 16;

/**
 * Streaming gunzip, synchronously. Node streams inflate only asynchronously and gunzipSync
 * needs the whole file, so this drives a raw-inflate stream's native handle directly (as npm's
 * minizlib does): output goes straight into the caller's buffer, and memory is one 64 KiB input
 * chunk whatever the trace length. The gzip framing is read here rather than by zlib so that,
 * like gunzip, it can take several members (`cat a.gz b.gz`), stop at zero padding, warn about
 * trailing bytes and check each member's length; the CRC is not checked (Node 20 has no crc32).
 */
export class GunzipSource implements ByteSource {
  readonly warnings: string[] = [];
  private readonly in: ChunkReader;
  private readonly stream: zlib.InflateRaw;
  private readonly handle: ZlibHandle;
  /** [avail_out, avail_in] after each writeSync */
  private readonly state: Uint32Array;
  private phase: 'header' | 'body' | 'done' = 'header';
  private members = 0;
  /** bytes inflated from the current member, for its length check */
  private memberOut = 0;
  private error: { message: string; errno: number } | null = null;

  constructor(
    private readonly inner: ByteSource,
    private readonly name: string,
  ) {
    this.in = new ChunkReader(inner, IN_CHUNK);
    this.stream = zlib.createInflateRaw();
    const internal = this.stream as unknown as { _handle?: ZlibHandle; _writeState?: Uint32Array };
    if (!internal._handle || typeof internal._handle.writeSync !== 'function' || !internal._writeState) {
      throw new UserError(
        `${name}: this Node.js version cannot stream gzip synchronously; decompress the trace first (gunzip -k)`,
      );
    }
    this.handle = internal._handle;
    this.state = internal._writeState;
    this.handle.onerror = (message, errno) => {
      this.error = { message, errno };
    };
  }

  read(buf: Buffer, off: number, len: number): number {
    const c = this.in;
    for (;;) {
      if (this.phase === 'done') return 0;
      if (this.phase === 'header') {
        this.phase = this.readHeader() ? 'body' : 'done';
        continue;
      }
      if (c.available === 0) c.ensure(1);
      const inLen = c.available;
      // Z_FINISH only once the input is exhausted: it is what makes zlib report a cut stream.
      this.handle.writeSync(
        inLen === 0 ? zlib.constants.Z_FINISH : zlib.constants.Z_NO_FLUSH,
        c.buf,
        c.pos,
        inLen,
        buf,
        off,
        len,
      );
      if (this.error) return this.fail();
      const produced = len - this.state[0];
      const consumed = inLen - this.state[1];
      c.pos += consumed;
      this.memberOut += produced;
      if (produced > 0) return produced;
      // Neither input taken nor output given, with room for both: the deflate stream has ended.
      if (consumed === 0) this.phase = this.endMember();
    }
  }

  /** Reads a member header (RFC 1952); false when the file ends inside it. */
  private readHeader(): boolean {
    const c = this.in;
    if (!c.ensure(10)) return this.cutOff();
    const b = c.buf;
    const p = c.pos;
    if (b[p] !== 0x1f || b[p + 1] !== 0x8b || b[p + 2] !== 8) {
      throw new UserError(
        `${this.name}: gzip member ${this.members + 1} at byte ${c.offset} has a bad header; ` +
          'decompress it with gunzip to see how much is recoverable',
      );
    }
    const flags = b[p + 3];
    c.pos += 10;
    if (flags & FEXTRA) {
      if (!c.ensure(2)) return this.cutOff();
      const xlen = u16le(c.buf, c.pos);
      c.pos += 2;
      if (!c.skip(xlen)) return this.cutOff();
    }
    if ((flags & FNAME && !this.skipZeroTerminated()) || (flags & FCOMMENT && !this.skipZeroTerminated()))
      return this.cutOff();
    if (flags & FHCRC && !c.skip(2)) return this.cutOff();
    this.members++;
    this.memberOut = 0;
    return true;
  }

  private skipZeroTerminated(): boolean {
    const c = this.in;
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

  /** Checks the member's trailer and decides what follows: another member, padding, or junk. */
  private endMember(): 'header' | 'done' {
    const c = this.in;
    if (!c.ensure(8)) {
      this.cutOff();
      return 'done';
    }
    const size = u32le(c.buf, c.pos + 4);
    if (size !== this.memberOut % 2 ** 32) {
      throw new UserError(
        `${this.name}: gzip member ${this.members} says it holds ${size} bytes but inflates to ${this.memberOut} ` +
          `(trailer at byte ${c.offset}); the file is damaged — decompress it with gunzip to see how much is recoverable`,
      );
    }
    c.pos += 8;
    if (!c.ensure(1)) return 'done';
    if (c.ensure(2) && c.buf[c.pos] === 0x1f && c.buf[c.pos + 1] === 0x8b) {
      this.handle.reset();
      return 'header';
    }
    const start = c.offset;
    // gzip and gunzip accept zero padding after the last member (tape blocks); other bytes are junk.
    do {
      for (let i = c.pos; i < c.end; i++) {
        if (c.buf[i] !== 0) {
          this.warnings.push(`${this.name}: bytes after the end of the gzip data (from byte ${start}) were ignored`);
          return 'done';
        }
      }
      c.pos = c.end;
    } while (c.ensure(1));
    return 'done';
  }

  private cutOff(): false {
    this.warnings.push(
      `${this.name}: compressed data cut off at byte ${this.in.offset + this.in.available} of the gzip file; what came before it was read`,
    );
    return false;
  }

  private fail(): number {
    const { message, errno } = this.error!;
    this.phase = 'done';
    if (errno === Z_BUF_ERROR) {
      this.cutOff();
      return 0;
    }
    throw new UserError(
      `${this.name}: gzip data damaged near byte ${this.in.offset} (${message}); ` +
        'decompress it with gunzip to see how much is recoverable',
    );
  }

  close(): void {
    this.stream.close();
    this.inner.close();
  }
}
