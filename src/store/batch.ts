/**
 * Packs records into the batches the meter worker posts to the filter thread, and unpacks them.
 *
 * The filter thread's budget went mostly to work the producer can do once and hand over for free:
 * structured-cloning ~500 record objects (about 5 µs a record, both sides together), building the
 * NDJSON text, and converting feature strings for SQLite. So a batch carries its records packed
 * into one Float64Array of rows (string fields as indexes into one short list of the batch's
 * distinct strings), the window features as one Float64Array matrix, and the NDJSON lines already
 * encoded (one byte array); the arrays are transferred, not copied, and the receiver rebuilds the
 * record objects (about 0.1 µs a record). The filter thread writes the bytes as they are and binds
 * the feature rows as BLOBs.
 */
import type { EndReason } from '../flow/types';
import { recordToJson } from './ndjson';
import type { LiveRecord, MeterStats, PackedBatch, Presence, RecordBatch } from './types';

/** What the sender passes to postMessage beside the batch. */
export interface SealedBatch {
  batch: PackedBatch;
  transfer: ArrayBuffer[];
}

/** A record's row: these offsets; the last ones differ between windows and start/end events. */
const EVENT = 0;
const FLOW_ID = 1;
const APP = 2;
const SRC_IP = 3;
const SRC_PORT = 4;
const DES_IP = 5;
const DES_PORT = 6;
const PROTOCOL = 7;
const START = 8;
const END = 9;
const PACKETS = 10;
const BYTES = 11;
const CALL_CERTAINTY = 12;
/** bit i set: the i-th of NULLABLE is null */
const NULLS = 13;
// windows
const PRESENCE = 14;
const REMOTE_PRESENCE = 15;
const NULLABLE = 16; // probability, raw, rawProbability, certainty, remoteProbability, remoteCertainty
// start and end events: a string index, or -1 when absent
const REASON = 14;
const CALL_REASON = 15;
const BATCH_FIELDS = NULLABLE + 6;

const EVENTS = ['window', 'start', 'end'] as const;

/** Writes v at row[i]; 1 when it is null. */
function putNullable(row: Float64Array, i: number, v: number | null): number {
  if (v === null) return 1;
  row[i] = v;
  return 0;
}

/** The nullable field `bit` of the row at p. */
function nullable(rows: Float64Array, p: number, bit: number): number | null {
  return rows[p + NULLS] & (1 << bit) ? null : rows[p + NULLABLE + bit];
}

export class BatchBuilder {
  private count = 0;
  private rows: Float64Array;
  private strings: string[] = [];
  private stringIndex = new Map<string, number>();
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
    this.rows = new Float64Array(Math.max(1, capacity) * BATCH_FIELDS);
    this.feats = new Float64Array(capacity * quotedNames.length);
    this.text = Buffer.allocUnsafe(ndjson ? 1 << 20 : 0);
  }

  get size(): number {
    return this.count;
  }

  private str(s: string): number {
    let i = this.stringIndex.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.stringIndex.set(s, i);
    }
    return i;
  }

  /** Takes `r`: its fields and a window's features are copied (the pipeline reuses its arrays). */
  add(r: LiveRecord): void {
    if (this.ndjson) this.addLine(recordToJson(r, this.quotedNames));
    if ((this.count + 1) * BATCH_FIELDS > this.rows.length) {
      const bigger = new Float64Array(this.rows.length * 2);
      bigger.set(this.rows);
      this.rows = bigger;
    }
    const row = this.rows;
    const p = this.count++ * BATCH_FIELDS;
    row[p + FLOW_ID] = this.str(r.flowID);
    row[p + APP] = this.str(r.app);
    row[p + SRC_IP] = this.str(r.srcIP);
    row[p + SRC_PORT] = r.srcPort;
    row[p + DES_IP] = this.str(r.desIP);
    row[p + DES_PORT] = r.desPort;
    row[p + PROTOCOL] = this.str(r.protocol);
    row[p + START] = r.start;
    row[p + END] = r.end;
    row[p + PACKETS] = r.packets;
    row[p + BYTES] = r.bytes;
    row[p + CALL_CERTAINTY] = r.callCertainty;
    if (r.event === 'window') {
      row[p + EVENT] = 0;
      row[p + PRESENCE] = this.str(r.presence);
      row[p + REMOTE_PRESENCE] = this.str(r.remotePresence);
      const q = p + NULLABLE;
      row[p + NULLS] =
        putNullable(row, q, r.probability) |
        (putNullable(row, q + 1, r.raw) << 1) |
        (putNullable(row, q + 2, r.rawProbability) << 2) |
        (putNullable(row, q + 3, r.certainty) << 3) |
        (putNullable(row, q + 4, r.remoteProbability) << 4) |
        (putNullable(row, q + 5, r.remoteCertainty) << 5);
      this.addFeatures(r.features);
    } else {
      row[p + EVENT] = r.event === 'start' ? 1 : 2;
      row[p + REASON] = r.reason === undefined ? -1 : this.str(r.reason);
      row[p + CALL_REASON] = r.callReason === undefined ? -1 : this.str(r.callReason);
    }
  }

  private addFeatures(f: Float64Array): void {
    const n = this.quotedNames.length;
    if ((this.windows + 1) * n > this.feats.length) {
      const bigger = new Float64Array(this.feats.length * 2 + n);
      bigger.set(this.feats.subarray(0, this.windows * n));
      this.feats = bigger;
    }
    this.feats.set(f.subarray(0, n), this.windows * n);
    this.windows++;
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
    const rows = this.rows.slice(0, this.count * BATCH_FIELDS);
    const features = this.feats.slice(0, this.windows * this.quotedNames.length);
    // allocUnsafeSlow: an ArrayBuffer of its own (a pooled one would take its neighbours along)
    const ndjson = Buffer.allocUnsafeSlow(this.textLen);
    this.text.copy(ndjson, 0, 0, this.textLen);
    const batch: PackedBatch = {
      kind: 'batch',
      clock,
      monitorStart,
      ndjson,
      stats,
      final,
      rows,
      strings: this.strings,
      features,
    };
    this.count = 0;
    this.strings = [];
    this.stringIndex.clear();
    this.textLen = 0;
    this.windows = 0;
    return {
      batch,
      transfer: [ndjson.buffer as ArrayBuffer, rows.buffer as ArrayBuffer, features.buffer as ArrayBuffer],
    };
  }
}

/** The records of a packed batch, as objects again; a window's features are a row of the batch's matrix. */
export function unpackBatch(b: PackedBatch, featureCount: number): RecordBatch {
  const { rows, strings: s, features } = b;
  const n = rows.length / BATCH_FIELDS;
  const records: LiveRecord[] = new Array<LiveRecord>(n);
  let w = 0;
  for (let k = 0; k < n; k++) {
    const p = k * BATCH_FIELDS;
    const event = EVENTS[rows[p + EVENT]];
    // each kind of record written out whole, its flow fields twice: one literal per kind is one
    // object shape from the start. Sharing them through a helper spread into each literal measured
    // 16 µs a record against 0.11 (the objects fell out of V8's fast shapes).
    if (event === 'window') {
      records[k] = {
        event,
        flowID: s[rows[p + FLOW_ID]],
        app: s[rows[p + APP]],
        srcIP: s[rows[p + SRC_IP]],
        srcPort: rows[p + SRC_PORT],
        desIP: s[rows[p + DES_IP]],
        desPort: rows[p + DES_PORT],
        protocol: s[rows[p + PROTOCOL]],
        start: rows[p + START],
        end: rows[p + END],
        packets: rows[p + PACKETS],
        bytes: rows[p + BYTES],
        callCertainty: rows[p + CALL_CERTAINTY],
        features: features.subarray(w * featureCount, ++w * featureCount),
        presence: s[rows[p + PRESENCE]] as Presence,
        probability: nullable(rows, p, 0),
        raw: nullable(rows, p, 1) as 0 | 1 | null,
        rawProbability: nullable(rows, p, 2),
        certainty: nullable(rows, p, 3),
        remotePresence: s[rows[p + REMOTE_PRESENCE]] as Presence,
        remoteProbability: nullable(rows, p, 4),
        remoteCertainty: nullable(rows, p, 5),
      };
    } else {
      const r: LiveRecord = {
        event,
        flowID: s[rows[p + FLOW_ID]],
        app: s[rows[p + APP]],
        srcIP: s[rows[p + SRC_IP]],
        srcPort: rows[p + SRC_PORT],
        desIP: s[rows[p + DES_IP]],
        desPort: rows[p + DES_PORT],
        protocol: s[rows[p + PROTOCOL]],
        start: rows[p + START],
        end: rows[p + END],
        packets: rows[p + PACKETS],
        bytes: rows[p + BYTES],
        callCertainty: rows[p + CALL_CERTAINTY],
      };
      if (rows[p + REASON] >= 0) r.reason = s[rows[p + REASON]] as EndReason;
      if (rows[p + CALL_REASON] >= 0) r.callReason = s[rows[p + CALL_REASON]];
      records[k] = r;
    }
  }
  const { kind, clock, monitorStart, ndjson, stats, final } = b;
  return { kind, clock, monitorStart, ndjson, stats, final, records };
}
