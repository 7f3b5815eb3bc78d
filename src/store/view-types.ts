/**
 * What the TUI reads from a store (SQLite's db/schema.sql, or PostgreSQL's db/postgres/schema.sql
 * for the view over many sensors): one `flows` row as SELECTed, the `meta` table decoded, and the
 * window history of one flow. The UI is a pure function of these and its own UiState; nothing
 * here is written back. The readers live where their SQL does (tui/reader.ts, store/pg/view.ts).
 */

/** A `flows` row, column names as in db/schema.sql. */
export interface FlowRow {
  flow_id: string;
  app: string;
  src_ip: string;
  src_port: number;
  des_ip: string;
  des_port: number;
  protocol: string;
  first_ts: number;
  last_ts: number;
  media_ts: number | null;
  packets: number;
  bytes: number;
  bitrate: number;
  windows: number;
  person_windows: number;
  presence: string;
  probability: number | null;
  certainty: number | null;
  timeout_at: number;
  ended: number;
  end_reason: string | null;
  ended_at: number | null;
  updated_at: number;
  /**
   * how sure the pick as a call is, 0..1 (1: a rule), and why: the rule's file:line, or the call
   * classifier's score and statistics. Null in rows stored before they existed (SQLite schema 5,
   * PostgreSQL schema 2); optional so that a row built by hand may leave them out.
   */
  call_certainty?: number | null;
  call_reason?: string | null;
  /** the view over PostgreSQL: the sensor that wrote the row, and that sensor's clock and start of monitoring */
  sensor?: string;
  sensor_clock?: number | null;
  sensor_start?: number | null;
}

/** The key of a row in the UI: its flow ID, and in the view over many sensors also its sensor's name. */
export function rowKey(r: { flow_id: string; sensor?: string }): string {
  return r.sensor === undefined ? r.flow_id : `${r.flow_id}@${r.sensor}`;
}

/** A `windows` row; `features` by name (decoded from the stored float64 bytes). */
export interface WindowRow {
  start: number;
  end: number;
  packets: number;
  bytes: number;
  bitrate: number;
  raw: number | null;
  /** P(person) of the bare per-window classifier (schema v2) */
  raw_probability: number | null;
  presence: number | null;
  probability: number | null;
  /** confidence in the final prediction, 0..100 (schema v2) */
  certainty: number | null;
  features: Record<string, number>;
}

/** The `meta` table, decoded; absent keys are null (an engine that has not written them yet). */
export interface Meta {
  source: string | null;
  monitorStart: number | null;
  /** the pipeline's now: wall clock live, packet time on replay */
  clock: number | null;
  model: string | null;
  windowMs: number | null;
  timeoutS: number | null;
  keepS: number | null;
  packets: number | null;
  drops: number | null;
  pps: number | null;
  flows: number | null;
  calls: number | null;
  windows: number | null;
  recordsPerS: number | null;
  replayPosition: number | null;
}

/**
 * One read of the database: the meta table, and the IDs of the flows the table shows, filtered
 * and sorted by SQLite. Only the rows on screen are then read in full (DbReader.rows), so a
 * refresh costs the same with 100 flows or 100 000.
 */
export interface Snapshot {
  /** false while the file or its tables do not exist yet */
  ok: boolean;
  /** why the database could not be read (shown on the waiting screen), null when ok */
  problem: string | null;
  meta: Meta;
  /** every flow in the database, whatever the filter */
  total: number;
  /** the flows that pass the filter, in sort order (row keys, rowKey()) */
  order: string[];
  /** the view over PostgreSQL: every sensor that reports or has flows on show */
  sensors?: SensorStatus[];
}

/** One sensor as the view's status bar shows it. */
export interface SensorStatus {
  name: string;
  state: 'running' | 'stopped';
  /** epoch seconds of its last report (the server's clock), and how long ago that was */
  reportedAt: number;
  agoS: number;
  /** running, but silent for longer than a sensor ever is */
  quiet: boolean;
}

export const EMPTY_META: Meta = {
  source: null,
  monitorStart: null,
  clock: null,
  model: null,
  windowMs: null,
  timeoutS: null,
  keepS: null,
  packets: null,
  drops: null,
  pps: null,
  flows: null,
  calls: null,
  windows: null,
  recordsPerS: null,
  replayPosition: null,
};

export function emptySnapshot(problem: string): Snapshot {
  return { ok: false, problem, meta: EMPTY_META, total: 0, order: [] };
}
