/**
 * What a reader hands the UI: `flows` rows as SELECTed, the `meta` table decoded, the window
 * history of one flow; and what the UI asks of it. The UI is a pure function of these and its own
 * UiState; nothing here is written back.
 */
import type { FlowField, FlowRow, WindowRow } from './flow-columns';

export type { FlowField, FlowRow, WindowRow } from './flow-columns';

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
 * and sorted by SQLite. Only the rows on screen are then read in full (FlowReader.rows), so a
 * refresh costs the same with 100 flows or 100 000.
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
  /** the flows that pass the filter, in sort order */
  order: string[];
}

/** Orders that are not one column's value; their SQL lives with the reader that runs them. */
export const DERIVED_SORTS = [
  'timeLeft',
  'duration',
  'ringTime',
  'endFlag',
  'presenceShare',
  'since',
  'remoteSince',
] as const;

/** What the table can be sorted by: a `flows` column, or a value computed from one row (and the clock). */
export type SortKey = FlowField | (typeof DERIVED_SORTS)[number];

/** The display filter: which flows the table shows, by their two addresses. */
export interface AddressFilter {
  matches(srcIp: string, desIp: string): boolean;
}

/** What the table asks of the database: which flows (the display filter) in which order. */
export interface ViewQuery {
  /** the run whose rows to show (its id in the database), or null: every run's */
  run: number | null;
  /** null: every flow */
  filter: AddressFilter | null;
  sort: { key: SortKey; desc: boolean };
}

/**
 * The UI's way into a store of flow records, read-only. SQLite's (sqlite-reader.ts) is the one we
 * ship; another store (a central PostgreSQL) implements the same calls.
 */
export interface FlowReader {
  /** A name for messages: the file or the server. */
  readonly name: string;
  /** False when nothing was committed since the last call: an idle UI then reads nothing. */
  changed(): boolean;
  /** Meta, the total, and the IDs of the flows to show, in order: one consistent read. */
  read(q: ViewQuery): Snapshot;
  /** The full rows of these flows (those on screen, the selected one, the marked ones). */
  rows(ids: readonly string[]): FlowRow[];
  /** IDs of the flows whose ID, address, port, app or presence contain `term` (case-insensitive). */
  search(term: string): string[];
  /** The last `limit` windows of a flow, oldest first. */
  recentWindows(flowId: string, limit: number): WindowRow[];
  close(): void;
}
