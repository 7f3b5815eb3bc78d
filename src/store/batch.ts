/**
 * Packs records into the batches the meter worker posts to the filter thread.
 *
 * The filter thread's budget went mostly to work the producer can do once and hand over for free:
 * structured-cloning ~500 record objects with their feature texts (a deep copy on both sides),
 * building the NDJSON text, and converting feature strings for SQLite. So a batch carries, beside
 * its records, the NDJSON lines already encoded (one byte array) and the window features as one
 * Float64Array whose rows the window records view; both are transferred, not copied.
 * The filter thread writes the bytes as they are and binds the feature rows as BLOBs.
 */
import { recordToJson } from './ndjson';
import type { LiveRecord, MeterStats, RecordBatch } from './types';

/** What the sender passes to postMessage beside the batch. */
export interface SealedBatch {
  batch: RecordBatch;
  transfer: ArrayBuffer[];
}

export class BatchBuilder {
  private records: LiveRecord[] = [];
  /** scratch space, reused: sealed batches get exact-size copies of their part */
  private text: Buffer;
  private textLen = 0;
  private feats: Float64Array;
  private windows = 0;

  /** `ndjson` false: nobody reads the lines (the UI without --out), batches carry none */
  constructor(
    private readonly quotedNames: readonly string[],
    capacity: number,
    private readonly ndjson = true,
  ) {
    this.feats = new Float64Array(capacity * quotedNames.length);
    this.text = Buffer.allocUnsafe(ndjson ? 1 << 20 : 0);
  }

  get size(): number {
    return this.records.length;
  }

  /** Takes `r`; a window's features are copied (the pipeline reuses its arrays). */
  add(r: LiveRecord): void {
    if (this.ndjson) this.addLine(recordToJson(r, this.quotedNames));
    if (r.event === 'window') {
      const n = this.quotedNames.length;
      if ((this.windows + 1) * n > this.feats.length) {
        const bigger = new Float64Array(this.feats.length * 2 + n);
        bigger.set(this.feats.subarray(0, this.windows * n));
        this.feats = bigger;
      }
      this.feats.set(r.features.subarray(0, n), this.windows * n);
      this.windows++;
    }
    this.records.push(r);
  }

  private addLine(line: string): void {
    // ≤ 3 bytes per UTF-16 unit, + the newline
    const need = this.textLen + line.length * 3 + 1;
    if (need > this.text.length) {
      const bigger = Buffer.allocUnsafe(Math.max(need, this.text.length * 2));
      this.text.copy(bigger, 0, 0, this.textLen);
      this.text = bigger;
    }
    this.textLen += this.text.write(line, this.textLen);
    this.text[this.textLen++] = 0x0a;
  }

  /** The batch of everything added since the last seal (possibly empty: a heartbeat). */
  seal(clock: number, monitorStart: number | null, stats: MeterStats, final: boolean): SealedBatch {
    const n = this.quotedNames.length;
    const features = this.feats.slice(0, this.windows * n);
    let k = 0;
    for (const r of this.records) {
      if (r.event === 'window') r.features = features.subarray(k * n, ++k * n);
    }
    // allocUnsafeSlow: an ArrayBuffer of its own (a pooled one would take its neighbours along)
    const ndjson = Buffer.allocUnsafeSlow(this.textLen);
    this.text.copy(ndjson, 0, 0, this.textLen);
    const batch: RecordBatch = { kind: 'batch', clock, monitorStart, records: this.records, ndjson, stats, final };
    this.records = [];
    this.textLen = 0;
    this.windows = 0;
    return { batch, transfer: [ndjson.buffer as ArrayBuffer, features.buffer as ArrayBuffer] };
  }
}
