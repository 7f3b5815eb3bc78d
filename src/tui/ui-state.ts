import type { ColumnContext, ColumnDef } from './columns';
import type { IpPattern } from './filter';
import type { LabelLine, LabelName } from './labels';
import type { SortSpec } from './table';
import type { FlowRow, Snapshot, WindowRow } from './types';

/**
 * The UI's state and the events that change it (see state.ts for update()). Only types here, so
 * that the pure parts of the UI (state, overlays, filter dialog, text rendering) share them
 * without importing each other.
 */

export type DialogFocus = 'input' | 'add' | 'remove' | 'clear' | 'close';

export interface FilterDialog {
  input: string;
  error: string | null;
  /** index of the pattern Remove acts on */
  selected: number;
  focus: DialogFocus;
}

export type Overlay = 'none' | 'help' | 'details' | 'menu' | 'filter' | 'search';

/** An open live label: `label` holds for `flowId` from `since` until the next mark. */
export interface Mark {
  flowId: string;
  label: LabelName;
  since: number;
}

export type Effect = { kind: 'quit' } | { kind: 'label'; line: LabelLine };

export interface Key {
  /** blessed's key name: 'up', 'enter', 'c', ... */
  name?: string;
  /** the character typed, if any */
  ch?: string;
  ctrl?: boolean;
  shift?: boolean;
}

export type UiEvent =
  | { type: 'key'; key: Key; now: number }
  | { type: 'click'; x: number; y: number; now: number }
  | { type: 'wheel'; delta: number }
  | { type: 'resize'; width: number; height: number }
  /** `asked`: read because the user changed the filter or the sort, shown even while paused */
  | { type: 'data'; snapshot: Snapshot; asked?: boolean }
  /** full rows of flows on screen (merged into what is there; `replace` drops the rest) */
  | { type: 'rows'; rows: FlowRow[]; replace: boolean }
  /** the flows that match a search term, in no particular order */
  | { type: 'searchHits'; term: string; ids: string[] }
  | { type: 'windows'; flowId: string; rows: WindowRow[] }
  | { type: 'notice'; text: string };

/** What the UI starts with: the terminal, the command line, and the environment. */
export interface InitOptions {
  width: number;
  height: number;
  color: boolean;
  unicode: boolean;
  refreshS: number;
  sourceLabel: string;
  modelName: string;
  labelsPath: string;
  /** the columns asked for, in order; as many as fit are shown */
  columns: ColumnDef[];
  /** the display filter: a row shows when srcIP or desIP (or, in the view over many sensors, its sensor) matches one */
  patterns: IpPattern[];
  /** the view over many sensors (--store postgres://...): the filter also takes sensor names */
  sensors?: boolean;
}

export interface UiState extends InitOptions {
  snapshot: Snapshot;
  /** read while paused, applied on resume */
  pending: Snapshot | null;
  ctx: ColumnContext;
  /** the flow IDs of the table: filtered and ordered */
  view: string[];
  /** full rows of the flows on screen, the selected and the marked ones */
  rows: Map<string, FlowRow>;
  /** bumped when the filter or the sort changes: the edge then asks the database again */
  queryVersion: number;
  selectedId: string | null;
  /** index in `view` of the first row on screen */
  top: number;
  sort: SortSpec;
  /** columns scrolled past with ← →, after the first */
  colOffset: number;
  /** frozen row order (flow IDs), null when the order follows the sort */
  frozen: string[] | null;
  paused: boolean;
  searchInput: string;
  searchTerm: string;
  searchHits: { term: string; ids: Set<string> } | null;
  overlay: Overlay;
  menuIndex: number;
  dialog: FilterDialog;
  detailsScroll: number;
  /** window history of `windowsFor` (the selected flow), oldest first */
  windows: WindowRow[];
  windowsFor: string | null;
  marks: Mark[];
  /** one-shot line in the second status line, cleared by the next key */
  message: string | null;
  outbox: Effect[];
  quit: boolean;
}
