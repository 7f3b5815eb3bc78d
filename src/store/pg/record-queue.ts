import fs from 'node:fs';
import path from 'node:path';

/** Encoded window rows (binary COPY rows, store/pg/copy-binary.ts) waiting for the database. */
export interface Chunk {
  rows: number;
  /** earliest and latest window start among the rows: whether they may already be stored */
  minStart: number;
  maxStart: number;
  data: Buffer;
}

export interface QueueBudget {
  /** bytes of memory the queued rows hold */
  memoryBytes: number;
  /** bytes of rows spilled to a file under `spoolDir` once memory is full; 0 = none */
  diskBytes: number;
  spoolDir: string;
}

/**
 * The memory a chunk keeps alive: its buffer's, which can be up to a third more than its rows'
 * bytes (CopyWriter.take() hands a mostly full buffer over as it is). Chunks own their buffers.
 */
function held(c: Chunk): number {
  return c.data.buffer.byteLength;
}

/** Per spilled chunk: rows (u32), length (u32), minStart (f64), maxStart (f64). */
const HEAD = 24;

/**
 * A FIFO of chunks within a memory and a disk budget: memory first; once memory is full, the
 * tail goes to a spool file (created on the first spill, unlinked at once so that nothing is left
 * behind even after SIGKILL) and comes back into memory as memory drains. A chunk that fits
 * neither is dropped and counted: the caller reports what was lost.
 */
export class RecordQueue {
  private readonly memory: Chunk[] = [];
  private memBytes = 0;
  private memRows = 0;
  private fd: number | null = null;
  private readPos = 0;
  private writePos = 0;
  private diskRows = 0;
  private diskChunks = 0;
  /** rows dropped over the budget, and rows that went through the spool file */
  dropped = 0;
  spilled = 0;
  /** why the spool file could not be used, once; null while it can */
  spoolProblem: string | null = null;

  constructor(private readonly budget: QueueBudget) {}

  get rows(): number {
    return this.memRows + this.diskRows;
  }

  get memoryBytes(): number {
    return this.memBytes;
  }

  get diskBytes(): number {
    return this.writePos - this.readPos;
  }

  get empty(): boolean {
    return this.memory.length === 0 && this.diskChunks === 0;
  }

  /** Queues `c`; false when it was dropped (both budgets full). */
  push(c: Chunk): boolean {
    // once anything waits on disk, later chunks queue behind it: the file drains in order
    if (this.diskChunks === 0 && this.memBytes + held(c) <= this.budget.memoryBytes) {
      this.keep(c);
      return true;
    }
    if (this.spill(c)) return true;
    this.dropped += c.rows;
    return false;
  }

  private keep(c: Chunk): void {
    this.memory.push(c);
    this.memBytes += held(c);
    this.memRows += c.rows;
  }

  private spill(c: Chunk): boolean {
    if (this.writePos + HEAD + c.data.length > this.budget.diskBytes || this.spoolProblem !== null) return false;
    try {
      if (this.fd === null) this.fd = openSpool(this.budget.spoolDir);
      const head = Buffer.allocUnsafe(HEAD);
      head.writeUInt32LE(c.rows, 0);
      head.writeUInt32LE(c.data.length, 4);
      head.writeDoubleLE(c.minStart, 8);
      head.writeDoubleLE(c.maxStart, 16);
      writeFully(this.fd, head, this.writePos);
      writeFully(this.fd, c.data, this.writePos + HEAD);
    } catch (err) {
      this.spoolProblem = `${(err as Error).message}`;
      return false;
    }
    this.writePos += HEAD + c.data.length;
    this.diskRows += c.rows;
    this.diskChunks++;
    this.spilled += c.rows;
    return true;
  }

  /**
   * Chunks from the head holding at most `maxBytes` (at least one chunk), left in the queue until
   * `remove(n)` says they were stored. Spilled chunks are read back as memory allows.
   */
  head(maxBytes: number): Chunk[] {
    this.refill();
    const out: Chunk[] = [];
    let bytes = 0;
    for (const c of this.memory) {
      if (out.length > 0 && bytes + c.data.length > maxBytes) break;
      out.push(c);
      bytes += c.data.length;
    }
    return out;
  }

  /** The first `n` chunks (from head()) were stored. */
  remove(n: number): void {
    for (const c of this.memory.splice(0, n)) {
      this.memBytes -= held(c);
      this.memRows -= c.rows;
    }
  }

  /** Moves spilled chunks back into memory while there is room (and always one when memory is empty). */
  private refill(): void {
    if (this.fd === null) return;
    try {
      while (this.diskChunks > 0) {
        const head = Buffer.allocUnsafe(HEAD);
        readFully(this.fd, head, this.readPos);
        const length = head.readUInt32LE(4);
        if (this.memory.length > 0 && this.memBytes + length > this.budget.memoryBytes) break;
        const data = Buffer.allocUnsafeSlow(length);
        readFully(this.fd, data, this.readPos + HEAD);
        const rows = head.readUInt32LE(0);
        this.keep({ rows, minStart: head.readDoubleLE(8), maxStart: head.readDoubleLE(16), data });
        this.readPos += HEAD + length;
        this.diskRows -= rows;
        this.diskChunks--;
      }
      if (this.diskChunks === 0 && this.writePos > 0) {
        fs.ftruncateSync(this.fd, 0);
        this.readPos = this.writePos = 0;
      }
    } catch (err) {
      // the spool file cannot be read back: what it holds is lost, and counted
      this.spoolProblem = `${(err as Error).message}`;
      this.dropped += this.diskRows;
      this.diskRows = this.diskChunks = 0;
      this.readPos = this.writePos = 0;
    }
  }

  close(): void {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/** A private file that exists only through its descriptor. */
function openSpool(dir: string): number {
  const sub = fs.mkdtempSync(path.join(dir, 'spymate-spool-'));
  const file = path.join(sub, 'queue');
  try {
    const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600);
    fs.unlinkSync(file);
    return fd;
  } finally {
    fs.rmSync(sub, { recursive: true, force: true });
  }
}

function writeFully(fd: number, b: Buffer, pos: number): void {
  for (let off = 0; off < b.length;) off += fs.writeSync(fd, b, off, b.length - off, pos + off);
}

function readFully(fd: number, b: Buffer, pos: number): void {
  for (let off = 0; off < b.length;) {
    const n = fs.readSync(fd, b, off, b.length - off, pos + off);
    if (n === 0) throw new Error('spool file ended early');
    off += n;
  }
}
