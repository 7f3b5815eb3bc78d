import type { ByteSource } from './byte-source';

export const CHUNK_SIZE = 1 << 20;

/**
 * A window of `size` bytes over a ByteSource: parsers read records straight out of `buf`
 * between `pos` and `end`, and call ensure() when a record might cross the window's edge.
 * Memory is the one buffer, whatever the trace length.
 */
export class ChunkReader {
  readonly buf: Buffer;
  pos = 0;
  end = 0;
  /** absolute stream offset of buf[0] */
  private base = 0;
  private eof = false;

  constructor(
    private readonly src: ByteSource,
    size = CHUNK_SIZE,
  ) {
    this.buf = Buffer.allocUnsafe(size);
  }

  /** Absolute stream offset of buf[pos]: where the next record starts, for messages. */
  get offset(): number {
    return this.base + this.pos;
  }

  get available(): number {
    return this.end - this.pos;
  }

  /** True when n bytes (n ≤ buffer size) are available at pos, reading more if needed. */
  ensure(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.pos > 0) {
      this.buf.copy(this.buf, 0, this.pos, this.end);
      this.base += this.pos;
      this.end -= this.pos;
      this.pos = 0;
    }
    while (this.end < n && !this.eof) {
      const got = this.src.read(this.buf, this.end, this.buf.length - this.end);
      if (got === 0) this.eof = true;
      else this.end += got;
    }
    return this.end >= n;
  }

  /** Skips n bytes (any size); false when the stream ended first. */
  skip(n: number): boolean {
    while (n > 0) {
      if (this.pos === this.end && !this.ensure(1)) return false;
      const step = Math.min(n, this.end - this.pos);
      this.pos += step;
      n -= step;
    }
    return true;
  }
}
