import type { FlowRow, Snapshot, WindowRow } from '../store/view-types';
import type { IpPattern } from './filter';
import type { SortSpec } from './table';

/** What the table asks of the store: which flows (the display filter) in which order. */
export interface ViewQuery {
  patterns: readonly IpPattern[];
  sort: SortSpec;
}

/**
 * The UI's only way into a store, synchronous: the SQLite reader (reader.ts) asks the file at each
 * call; the PostgreSQL view (remote-reader.ts) answers from what its last round trip fetched and
 * calls back when a new round has arrived. IDs are row keys (rowKey()).
 */
export interface ViewReader {
  /** false when nothing changed since the last look: an idle refresh reads nothing */
  changed(): boolean;
  /** meta, the total, and the keys of the flows to show, in order */
  read(q: ViewQuery): Snapshot;
  /** the full rows of these flows */
  rows(ids: readonly string[]): FlowRow[];
  /** flows whose ID, address, port, app or presence (or sensor) contain `term` */
  search(term: string): string[];
  /** the last `limit` windows of a flow, oldest first */
  recentWindows(flowId: string, limit: number): WindowRow[];
  close(): void;
}
