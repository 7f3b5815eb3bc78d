/**
 * The columns the readers take from the `flows` and `windows` tables (db/schema.sql), in order:
 * the one list that drives both the SELECT and the shaping of its rows into objects, and the row
 * types themselves. A new column is one entry here (and its migration).
 */

/** SQL value kinds; `?` may be NULL. */
type Kind = 'text' | 'text?' | 'int' | 'int?' | 'real' | 'real?';

type ValueOf<K extends Kind> = K extends 'text'
  ? string
  : K extends 'text?'
    ? string | null
    : K extends 'int' | 'real'
      ? number
      : number | null;

type Columns = ReadonlyArray<readonly [string, Kind]>;

type RowOf<C extends Columns> = { [E in C[number] as E[0]]: ValueOf<E[1]> };

export const FLOW_COLUMNS = [
  ['flow_id', 'text'],
  ['app', 'text'],
  ['src_ip', 'text'],
  ['src_port', 'int'],
  ['des_ip', 'text'],
  ['des_port', 'int'],
  ['protocol', 'text'],
  ['first_ts', 'real'],
  ['last_ts', 'real'],
  ['media_ts', 'real?'],
  ['packets', 'int'],
  ['bytes', 'int'],
  ['bitrate', 'real'],
  ['windows', 'int'],
  ['person_windows', 'int'],
  ['presence', 'text'],
  ['probability', 'real?'],
  ['certainty', 'real?'],
  ['timeout_at', 'real'],
  ['ended', 'int'],
  ['end_reason', 'text?'],
  ['ended_at', 'real?'],
  ['updated_at', 'real'],
  /**
   * how sure the pick as a call is, 0..1 (1: a rule), and why: the rule's file:line, or the call
   * classifier's score and statistics; null in rows stored before they existed (schema 5)
   */
  ['call_certainty', 'real?'],
  ['call_reason', 'text?'],
  /** start of the first window of the current presence run (v5) */
  ['presence_since', 'real?'],
  /** the remote side's camera, from what the local side receives (v5) */
  ['remote_presence', 'text'],
  ['remote_probability', 'real?'],
  ['remote_certainty', 'real?'],
  ['remote_since', 'real?'],
  /** the run that wrote the row last (v5) */
  ['run', 'int'],
] as const satisfies Columns;

/** A `flows` row, column names as in db/schema.sql. */
export type FlowRow = RowOf<typeof FLOW_COLUMNS>;

export type FlowField = keyof FlowRow;

/** The window history the UI shows; `features` is read beside them (a BLOB, decoded by name). */
export const WINDOW_COLUMNS = [
  ['start', 'real'],
  ['end', 'real'],
  ['packets', 'int'],
  ['bytes', 'int'],
  ['bitrate', 'real'],
  /** bare per-window classifier: 1 person, 0 background */
  ['raw', 'int?'],
  /** P(person) of the bare per-window classifier (schema v2) */
  ['raw_probability', 'real?'],
  ['presence', 'int?'],
  ['probability', 'real?'],
  /** confidence in the final prediction, 0..100 (schema v2) */
  ['certainty', 'real?'],
  /** the remote side's camera: final prediction and its P(person) (v5) */
  ['remote_presence', 'int?'],
  ['remote_probability', 'real?'],
] as const satisfies Columns;

/** A `windows` row; `features` by name (decoded from the stored float64 bytes). */
export type WindowRow = RowOf<typeof WINDOW_COLUMNS> & { features: Record<string, number> };

/** `a, b, c`: the SELECT list of a column list. */
export function selectList(columns: Columns): string {
  return columns.map((c) => c[0]).join(', ');
}

/**
 * Rows come from SQLite as arrays (better-sqlite3 builds row objects five times slower) and are
 * shaped here, by the list they were selected with.
 */
export function shapeRow<C extends Columns>(columns: C, values: readonly unknown[]): RowOf<C> {
  const row: Record<string, unknown> = {};
  for (let i = 0; i < columns.length; i++) row[columns[i][0]] = values[i];
  return row as RowOf<C>;
}
