/**
 * Rows in PostgreSQL's binary COPY format (the "COPY ... FROM STDIN (FORMAT binary)" stream): the
 * sensor encodes each window once, as it arrives, and the queue holds these bytes; no text to
 * build or parse on either side. Layout: PostgreSQL docs, "COPY", "Binary Format": a fixed header,
 * per row an int16 field count then per field an int32 length (-1 = NULL) and the value in network
 * order, and an int16 -1 trailer.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

/** The stream header: signature, flags 0, no header extension. */
export const COPY_HEADER: Buffer = Buffer.concat([SIGNATURE, Buffer.alloc(8)]);
/** The stream trailer. */
export const COPY_TRAILER: Buffer = Buffer.from([0xff, 0xff]);

/**
 * Appends rows to one growing buffer; `take()` hands the rows over and starts again. Numbers go
 * through a DataView, which the JIT compiles to plain stores (Buffer's writeInt32BE and kin check
 * their arguments at every call: encoding a window row cost 2.6 µs that way, measured).
 */
export class CopyWriter {
  private buf: Buffer;
  private view: DataView;
  private pos = 0;
  private count = 0;

  constructor(private readonly initial = 1 << 16) {
    this.buf = Buffer.allocUnsafeSlow(initial);
    this.view = viewOf(this.buf);
  }

  /** rows written since the last take() */
  get rows(): number {
    return this.count;
  }

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.pos + n, this.buf.length * 2));
    this.buf.copy(bigger, 0, 0, this.pos);
    this.use(bigger);
  }

  private use(buf: Buffer): void {
    this.buf = buf;
    this.view = viewOf(buf);
  }

  row(fields: number): this {
    this.room(2);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
    this.count++;
    return this;
  }

  null(): this {
    this.room(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
    return this;
  }

  text(s: string): this {
    // room for the longest UTF-8 the string can take: cheaper than measuring it first
    this.room(4 + s.length * 3);
    const at = this.pos + 4;
    const buf = this.buf;
    let i = 0;
    // ASCII (addresses, flow IDs, presence words) byte by byte: cheaper than a call into C++
    for (; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c >= 0x80) break;
      buf[at + i] = c;
    }
    const n = i === s.length ? i : buf.write(s, at);
    this.view.setInt32(this.pos, n);
    this.pos = at + n;
    return this;
  }

  textOrNull(s: string | null): this {
    return s === null ? this.null() : this.text(s);
  }

  float8(v: number): this {
    this.room(12);
    this.view.setInt32(this.pos, 8);
    this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
    return this;
  }

  float8OrNull(v: number | null): this {
    return v === null ? this.null() : this.float8(v);
  }

  int2OrNull(v: number | null): this {
    if (v === null) return this.null();
    this.room(6);
    this.view.setInt32(this.pos, 2);
    this.view.setInt16(this.pos + 4, v);
    this.pos += 6;
    return this;
  }

  int4(v: number): this {
    this.room(8);
    this.view.setInt32(this.pos, 4);
    this.view.setInt32(this.pos + 4, v);
    this.pos += 8;
    return this;
  }

  /** int8 from a JS number: exact up to 2^53, more than any packet or byte count here. */
  int8(v: number): this {
    this.room(12);
    this.view.setInt32(this.pos, 8);
    const hi = Math.floor(v / 0x100000000);
    this.view.setInt32(this.pos + 4, hi);
    this.view.setUint32(this.pos + 8, v - hi * 0x100000000);
    this.pos += 12;
    return this;
  }

  bool(v: boolean): this {
    this.room(5);
    this.view.setInt32(this.pos, 1);
    this.buf[this.pos + 4] = v ? 1 : 0;
    this.pos += 5;
    return this;
  }

  /** A field of these bytes as they are: a bytea, or a text already in UTF-8. */
  bytes(b: Uint8Array): this {
    this.room(4 + b.length);
    this.view.setInt32(this.pos, b.length);
    this.buf.set(b, this.pos + 4);
    this.pos += 4 + b.length;
    return this;
  }

  /**
   * A bytea of these numbers as float64 little-endian: the bytes SQLite keeps for a window's
   * features (store/features-blob.ts), written without making a view of them per row.
   */
  float8Le(values: Float64Array): this {
    const n = values.length * 8;
    this.room(4 + n);
    const view = this.view;
    view.setInt32(this.pos, n);
    let at = this.pos + 4;
    for (let i = 0; i < values.length; i++, at += 8) view.setFloat64(at, values[i], true);
    this.pos = at;
    return this;
  }

  /**
   * The rows written since the last take(), as their own buffer (no header or trailer). A buffer
   * three quarters full or more is handed over as it is (its memory at most a third more than its
   * rows) and the next one made as large; an emptier one is copied out at its size.
   */
  take(): Buffer {
    let out: Buffer;
    if (this.pos * 4 >= this.buf.length * 3) {
      out = this.buf.subarray(0, this.pos);
      this.use(Buffer.allocUnsafeSlow(this.buf.length));
    } else {
      // a buffer of its own (not a slice of Node's shared pool): the queue counts the memory it holds
      out = Buffer.allocUnsafeSlow(this.pos);
      this.buf.copy(out, 0, 0, this.pos);
      // the next batch is likely as large as this one: a buffer it fills three quarters or more
      const fits = Math.ceil(this.pos * 1.25);
      if (this.pos >= this.initial && this.buf.length * 3 > fits * 4) this.use(Buffer.allocUnsafeSlow(fits));
    }
    this.pos = 0;
    this.count = 0;
    return out;
  }
}

function viewOf(b: Buffer): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}
