import type { ByteSource, PieceSource } from './byte-source';

export const CHUNK_SIZE = 1 << 20;

/**
 * A window of bytes over a stream: parsers read records straight out of `buf` between `pos` and
 * `end`, and call ensure() when a record might cross the window's edge. Over a ByteSource the
 * window is one buffer of `size` bytes that reads fill; over a PieceSource it is the source's
 * current piece, and only a record that straddles two pieces is copied (into that same buffer) to
 * lie whole. Memory is that buffer and a piece or two, whatever the trace length.
 *
 * A PieceSource can have nothing ready yet: ensure() then returns false with `ended` still false,
 * nothing consumed, and the caller awaits ready() and tries again.
 */
export class ChunkReader {
  buf: Buffer;
  pos = 0;
  end = 0;
  /** absolute stream offset of buf[0] */
  private base = 0;
  private eof = false;
  private readonly own: Buffer;
  private readonly pieces: PieceSource | null;
  /** the part of the last piece taken that is not in the window yet */
  private rest: Buffer | null = null;
  private restPos = 0;

  constructor(
    private readonly src: ByteSource | PieceSource,
    size = CHUNK_SIZE,
  ) {
    this.own = this.buf = Buffer.allocUnsafe(size);
    this.pieces = 'take' in src ? src : null;
  }

  /** Absolute stream offset of buf[pos]: where the next record starts, for messages. */
  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** The stream has ended: a false ensure() means too few bytes are left, not "not yet". */
  get ended(): boolean {
    return this.eof;
  }

  get warnings(): string[] {
    return this.src.warnings;
  }

  /** True when n bytes (n ≤ buffer size) are available at pos, reading more if needed. */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.pieces) return this.ensurePieces(n, this.pieces);
    const src = this.src as ByteSource;
    if (this.pos > 0) this.compact();
    while (this.end < n && !this.eof) {
      const got = src.read(this.buf, this.end, this.buf.length - this.end);
      if (got === 0) this.eof = true;
      else this.end += got;
    }
    return this.end >= n;
  }

  private ensurePieces(n: number, pieces: PieceSource): boolean {
    while (this.end - this.pos < n) {
      let piece = this.rest;
      let from = this.restPos;
      if (!piece) {
        const got = pieces.take();
        if (!got) {
          if (got === null) this.eof = true;
          return false;
        }
        piece = got;
        from = 0;
      }
      if (this.pos === this.end) {
        // Nothing left in the window: parse the piece where it lies.
        this.base += this.pos - from;
        this.buf = piece;
        this.pos = from;
        this.end = piece.length;
        this.rest = null;
        continue;
      }
      // A record straddles two pieces: copy what it needs into our own buffer.
      if (this.buf !== this.own) {
        this.base += this.pos;
        this.end = this.buf.copy(this.own, 0, this.pos, this.end);
        this.pos = 0;
        this.buf = this.own;
      } else if (this.pos > 0) this.compact();
      const take = Math.min(n - this.end, piece.length - from);
      this.end += piece.copy(this.own, this.end, from, from + take);
      this.rest = from + take < piece.length ? piece : null;
      this.restPos = from + take;
    }
    return true;
  }

  private compact(): void {
    this.buf.copy(this.buf, 0, this.pos, this.end);
    this.base += this.pos;
    this.end -= this.pos;
    this.pos = 0;
  }

  /** Resolves when a false ensure() that did not end the stream may succeed. */
  ready(): Promise<void> {
    return this.pieces ? this.pieces.ready() : Promise.resolve();
  }

  /** Like ensure(), waiting for the source as needed; false only at the end of the stream. */
  async fill(n: number): Promise<boolean> {
    while (!this.ensure(n)) {
      if (this.eof) return false;
      await this.ready();
    }
    return true;
  }

  /** Skips n bytes (any size); returns how many it could not skip: the stream ended, or (not `ended`) has none yet. */
  skip(n: number): number {
    while (n > 0) {
      if (this.pos === this.end && !this.ensure(1)) return n;
      const step = Math.min(n, this.end - this.pos);
      this.pos += step;
      n -= step;
    }
    return 0;
  }

  close(): void {
    this.src.close();
  }
}
