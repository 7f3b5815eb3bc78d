/**
 * The records that leave the meter worker: posted in batches to the filter thread, stored in
 * SQLite, and written as NDJSON (`--out`, `--headless`, read back by `--records`).
 *
 * NDJSON shape (one object per line, keys in this order):
 *   window: {"event":"window","flowID","app","srcIP","srcPort","desIP","desPort","protocol",
 *            "start","end","packets","bytes","callCertainty",<one key per feature, FEATURE_NAMES order>,
 *            "presence":"person"|"background"|"camera-off"|"no video"|"unknown","probability","raw","rawProbability","certainty",
 *            "remotePresence","remoteProbability","remoteCertainty"}
 *   start:  {"event":"start","flowID","app","srcIP","srcPort","desIP","desPort","protocol",
 *            "start","end","packets","bytes","callCertainty","callReason"}
 *   end:    the same as start without "callReason", plus "reason" (fin|rst|media-stop|timeout|evicted|end-of-trace)
 * `callCertainty` (0..1) is how sure the pick of the flow as a call is: 1 for a rule, the call
 * classifier's probability for the flows it found; `callReason` says why (docs/calls.md).
 * Times are epoch seconds; packets/bytes count both directions (wire sizes); for start/end events
 * they are the flow's totals so far. `probability` is P(person) of the final causal prediction,
 * `raw` the bare per-window classifier (1/0) and `rawProbability` its P(person), `certainty` 0..100 (confidence
 * in `presence`); all four are null without a model, and while the camera is off (`camera-off`: the
 * local side sends audio but no video, so no model is asked; `no video`: it sends no media at all;
 * src/features/sent-video.ts). `presence` is the local side's camera (what it sends); the `remote*`
 * keys are the same for the remote side's camera (what the local side receives).
 */
import type { EndReason } from '../flow/types';
import type { WindowRecord } from '../features/types';

export type Presence = 'person' | 'background' | 'camera-off' | 'no video' | 'unknown';

/**
 * The flow identity and counts every record carries: the window record's fields without its
 * features. For start/end events, start/end are the flow's first and last packet.
 */
export type FlowKeyFields = Omit<WindowRecord, 'features' | 'label' | 'sent' | 'received'>;

export interface WindowOut extends FlowKeyFields {
  event: 'window';
  /** in FEATURE_NAMES order; in a sealed batch, a row of the batch's feature matrix (store/batch.ts) */
  features: Float64Array;
  presence: Presence;
  probability: number | null;
  raw: 0 | 1 | null;
  /** P(person) of the bare per-window classifier */
  rawProbability: number | null;
  certainty: number | null;
  /** the remote side's camera, judged from what the local side receives: as presence, probability, certainty */
  remotePresence: Presence;
  remoteProbability: number | null;
  remoteCertainty: number | null;
}

export interface FlowEventOut extends FlowKeyFields {
  event: 'start' | 'end';
  reason?: EndReason;
  /** start events: why the flow is a call (rule file:line, or the call classifier's score) */
  callReason?: string;
}

export type LiveRecord = WindowOut | FlowEventOut;

/** Counters of the meter (source side), carried on every batch so the filter thread can write meta. */
export interface MeterStats {
  packets: number;
  /** packets captured but never processed, all causes: the sum of the three below (docs/monitor.md, "Drops") */
  drops: number;
  /** the kernel's capture ring was full (pcap_stats ps_drop); null when it cannot be read */
  dropsKernel: number | null;
  /** dropped by the interface before capture (pcap_stats ps_ifdrop: the interface's rx_dropped) */
  dropsInterface: number;
  /** dropped by spymate: the capture helper's queue to the meter was full */
  dropsMeter: number;
  /** packets per second over the last second */
  pps: number;
  /** flows seen so far, calls picked by the rules, windows classified */
  flows: number;
  calls: number;
  windows: number;
  /** replay: 0..1 through the trace; null live */
  replayPosition: number | null;
}

export function emptyMeterStats(): MeterStats {
  return {
    packets: 0,
    drops: 0,
    dropsKernel: 0,
    dropsInterface: 0,
    dropsMeter: 0,
    pps: 0,
    flows: 0,
    calls: 0,
    windows: 0,
    replayPosition: null,
  };
}

/** What a batch says besides its records. */
interface BatchHead {
  kind: 'batch';
  /** the pipeline's now: wall clock live, packet time on replay (epoch seconds) */
  clock: number;
  /** epoch of the start of monitoring: the wall clock live, the first packet on replay; null until known */
  monitorStart: number | null;
  /** the records as NDJSON lines, UTF-8: formatted once by the producer (store/batch.ts); empty when nobody reads them */
  ndjson: Uint8Array;
  stats: MeterStats;
  /** the last batch: the source is exhausted or stopped and the pipeline flushed */
  final: boolean;
}

/** A batch of records as the filter thread and the stores take it. */
export interface RecordBatch extends BatchHead {
  records: LiveRecord[];
}

/**
 * A batch as it crosses the thread boundary, meter worker → filter thread, over their
 * MessageChannel: the records packed into rows of numbers (string fields as indexes into
 * `strings`) and a feature matrix, so that posting copies a few arrays instead of cloning every
 * record object (store/batch.ts packs and unpacks).
 */
export interface PackedBatch extends BatchHead {
  /** one row of numbers per record (store/batch.ts BATCH_FIELDS) */
  rows: Float64Array;
  /** the batch's distinct strings */
  strings: string[];
  /** one row of features per window record, in record order */
  features: Float64Array;
}

/** Stats the workers post to the main thread (the only traffic to it besides errors). */
export interface FilterStats {
  records: number;
  windows: number;
  recordsPerS: number;
  /** records written to NDJSON but not to the database after a database failure */
  notStored: number;
}

/** A failure a worker reports to the main thread: the one line the user sees, and the exit code. */
export interface WorkerFailure {
  kind: 'error';
  line: string;
  code: number;
}
