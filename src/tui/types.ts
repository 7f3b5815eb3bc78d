/**
 * What the TUI reads from a store: the row types are defined beside the readers' SQL
 * (store/view-types.ts); the UI's side of a reader is ViewReader (view-reader.ts).
 */
export type { FlowRow, Meta, SensorStatus, Snapshot, WindowRow } from '../store/view-types';
export { rowKey } from '../store/view-types';
