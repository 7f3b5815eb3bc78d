/**
 * Rows in PostgreSQL's binary COPY format (the "COPY ... FROM STDIN (FORMAT binary)" stream): the
 * sensor encodes each window once, as it arrives, and the queue holds these bytes; no text to
 * build or parse on either side. Layout: PostgreSQL docs, "COPY", "Binary Format": a fixed header,
 * per row an int16 field count then per field an int32 length (-1 = NULL) and the value in network
 * order, and an int16 -1 trailer.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** float8's type OID, named in each array value */
const FLOAT8_OID = 701;

/** one float8, and its bytes in the machine's order */
const ONE = new Float64Array(1);
const ONE_BYTES = new Uint8Array(ONE.buffer);
const LITTLE_ENDIAN = new Uint8Array(Float64Array.of(1).buffer)[7] === 0x3f;
/** where each byte of a float8 in network order is in ONE_BYTES */
const [B0, B1, B2, B3, B4, B5, B6, B7] = LITTLE_ENDIAN ? [7, 6, 5, 4, 3, 2, 1, 0] : [0, 1, 2, 3, 4, 5, 6, 7];

/** The stream header: signature, flags 0, no header extension. */
export const COPY_HEADER: Buffer = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
/** The stream trailer. */
export const COPY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

/** Appends rows to one growing buffer; `take()` hands the rows over and starts again. */
export class CopyWriter {
  private buf: Buffer;
  private pos = 0;
  private count = 0;

  constructor(initial = 1 << 16) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  /** rows written since the last take() */
  get rows(): number {
    return this.count;
  }

  get bytes(): number {
    return this.pos;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.buf = bigger;
  }

  row(fields: number): this {
    this.room(2);
    this.buf.writeInt16BE(fields, this.pos);
    this.pos += 2;
    this.count++;
    return this;
  }

  null(): this {
    this.room(4);
    this.buf.writeInt32BE(-1, this.pos);
    this.pos += 4;
    return this;
  }

  text(s: string): this {
    // room for the longest UTF-8 the string can take: cheaper than measuring it first
    this.room(4 + s.length * 3);
    const n = this.buf.write(s, this.pos + 4);
    this.buf.writeInt32BE(n, this.pos);
    this.pos += 4 + n;
    return this;
  }

  textOrNull(s: string | null): this {
    return s === null ? this.null() : this.text(s);
  }

  float8(v: number): this {
    this.room(12);
    this.buf.writeInt32BE(8, this.pos);
    this.buf.writeDoubleBE(v, this.pos + 4);
    this.pos += 12;
    return this;
  }

  float8OrNull(v: number | null): this {
    return v === null ? this.null() : this.float8(v);
  }

  int2OrNull(v: number | null): this {
    if (v === null) return this.null();
    this.room(6);
    this.buf.writeInt32BE(2, this.pos);
    this.buf.writeInt16BE(v, this.pos + 4);
    this.pos += 6;
    return this;
  }

  int4(v: number): this {
    this.room(8);
    this.buf.writeInt32BE(4, this.pos);
    this.buf.writeInt32BE(v, this.pos + 4);
    this.pos += 8;
    return this;
  }

  /** int8 from a JS number: exact up to 2^53, more than any packet or byte count here. */
  int8(v: number): this {
    this.room(12);
    this.buf.writeInt32BE(8, this.pos);
    const hi = Math.floor(v / 0x100000000);
    this.buf.writeInt32BE(hi, this.pos + 4);
    this.buf.writeUInt32BE(v - hi * 0x100000000, this.pos + 8);
    this.pos += 12;
    return this;
  }

  bool(v: boolean): this {
    this.room(5);
    this.buf.writeInt32BE(1, this.pos);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
    return this;
  }

  /** A one-dimensional float8[] (lower bound 1, no NULL elements; NaN stays NaN). */
  float8Array(values: ArrayLike<number>): this {
    const n = values.length;
    const size = 20 + 12 * n;
    this.room(4 + size);
    const b = this.buf;
    let p = this.pos;
    b.writeInt32BE(size, p);
    b.writeInt32BE(1, p + 4); // dimensions
    b.writeInt32BE(0, p + 8); // flags: no NULLs
    b.writeInt32BE(FLOAT8_OID, p + 12);
    b.writeInt32BE(n, p + 16);
    b.writeInt32BE(1, p + 20); // lower bound
    p += 24;
    // byte by byte from the machine's order: a tenth of writeInt32BE + writeDoubleBE per element
    for (let i = 0; i < n; i++) {
      ONE[0] = values[i];
      b[p] = 0;
      b[p + 1] = 0;
      b[p + 2] = 0;
      b[p + 3] = 8;
      b[p + 4] = ONE_BYTES[B0];
      b[p + 5] = ONE_BYTES[B1];
      b[p + 6] = ONE_BYTES[B2];
      b[p + 7] = ONE_BYTES[B3];
      b[p + 8] = ONE_BYTES[B4];
      b[p + 9] = ONE_BYTES[B5];
      b[p + 10] = ONE_BYTES[B6];
      b[p + 11] = ONE_BYTES[B7];
      p += 12;
    }
    this.pos = p;
    return this;
  }

  /** The rows written since the last take(), as their own buffer (no header or trailer). */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.pos);
    this.buf.copy(out, 0, 0, this.pos);
    this.pos = 0;
    this.count = 0;
    return out;
  }
}
