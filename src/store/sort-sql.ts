import type { DERIVED_SORTS, SortKey } from './view-types';

/**
 * The table's sort keys as SQL over a `flows` row (SQLite's dialect; the PostgreSQL view
 * translates it, store/pg/view.ts): a column sorts by itself, the derived orders by these
 * expressions (@clock: the pipeline's clock). NULL sorts last.
 */
const DERIVED_SQL: Record<(typeof DERIVED_SORTS)[number], string> = {
  timeLeft: 'CASE WHEN ended THEN 0 ELSE max(0, timeout_at - @clock) END',
  duration: 'last_ts - first_ts',
  ringTime: 'media_ts - first_ts',
  endFlag: "CASE WHEN ended THEN coalesce(end_reason, 'yes') END",
  // how long the presence has been what it is; ended calls last
  since: 'CASE WHEN ended THEN NULL ELSE @clock - presence_since END',
  remoteSince: 'CASE WHEN ended THEN NULL ELSE @clock - remote_since END',
  presenceShare:
    "CASE WHEN windows = 0 OR (presence = 'unknown' AND person_windows = 0) THEN NULL ELSE 100.0 * person_windows / windows END",
  // SQLite holds one host's flows: nothing to sort by there (the PostgreSQL view has the column)
  sensor: 'NULL',
};

export function sortSql(key: SortKey): string {
  return (DERIVED_SQL as Record<string, string>)[key] ?? key;
}
