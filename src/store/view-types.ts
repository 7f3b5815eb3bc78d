/**
 * What the TUI reads from a store (SQLite's db/schema.sql, or PostgreSQL's db/postgres/schema.sql
 * for the view over many sensors): one `flows` row as SELECTed, the `meta` table decoded, and the
 * window history of one flow. The UI is a pure function of these and its own UiState; nothing
 * here is written back. The readers live where their SQL does (sqlite-reader.ts, pg/view.ts); the
 * columns they select, and the row types, are flow-columns.ts's.
 */
import type { FlowField, FlowRow as StoredFlowRow } from './flow-columns';

export type { WindowRow } from './flow-columns';

/** A `flows` row, column names as in db/schema.sql; from the view over PostgreSQL also its sensor's. */
export type FlowRow = StoredFlowRow & {
  /** the view over PostgreSQL: the sensor that wrote the row, and that sensor's clock and start of monitoring */
  sensor?: string;
  sensor_clock?: number | null;
  sensor_start?: number | null;
};

/** The key of a row in the UI: its flow ID, and in the view over many sensors also its sensor's name. */
export function rowKey(r: { flow_id: string; sensor?: string }): string {
  return r.sensor === undefined ? r.flow_id : `${r.flow_id}@${r.sensor}`;
}

/** Orders that are not one column's value; their SQL lives with the readers (sort-sql.ts). */
export const DERIVED_SORTS = [
  'timeLeft',
  'duration',
  'ringTime',
  'endFlag',
  'presenceShare',
  'since',
  'remoteSince',
  'sensor',
] as const;

/** What the table can be sorted by: a `flows` column, or a value computed from one row (and the clock). */
export type SortKey = FlowField | (typeof DERIVED_SORTS)[number];

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
  /** the clock when the source ended (a replay's last packet) and every record was stored; null while it runs */
  finishedAt: number | null;
}

/**
 * One read of the database: the meta table, and the IDs of the flows the table shows, filtered
 * and sorted by the store. Only the rows on screen are then read in full, so a refresh costs the
 * same with 100 flows or 100 000.
 */
export interface Snapshot {
  /** false while the file or its tables do not exist yet */
  ok: boolean;
  /** why the database could not be read (shown on the waiting screen), null when ok */
  problem: string | null;
  meta: Meta;
  /** every flow of the run shown (every flow with no run), whatever the filter */
  total: number;
  /** how many of those have ended */
  ended: number;
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
  finishedAt: null,
};

export function emptySnapshot(problem: string): Snapshot {
  return { ok: false, problem, meta: EMPTY_META, total: 0, ended: 0, order: [] };
}
