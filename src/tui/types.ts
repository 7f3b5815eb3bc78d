/**
 * What the TUI reads from the database (db/schema.sql): one `flows` row as SELECTed, the `meta`
 * table decoded, and the window history of one flow. The UI is a pure function of these and its
 * own UiState; nothing here is written back.
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
  /** how sure the pick as a call is, 0..1 (1: a rule); null in databases older than schema 5 */
  call_certainty: number | null;
  /** why it is a call: the rule's file:line, or the call classifier's score and statistics */
  call_reason: string | null;
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
  /** the flows that pass the filter, in sort order */
  order: string[];
}
