import { fitColumns, type FittedColumns } from './table';
import { mainLayout, type MainLayout } from './layout';
import type { FlowRow } from '../store/view-types';
import type { ViewQuery } from './view-reader';
import type { UiState } from './ui-state';

/** What the screen and the reads derive from the UI state: pure reads of it. */

/** Where things are on the main screen now: the table grows with the calls, the charts take the rest. */
export function layoutOf(s: UiState): MainLayout {
  return mainLayout(s.height, s.view.length);
}

export function tableRows(s: UiState): number {
  return layoutOf(s).tableRows;
}

/** What the table asks of the store now: the run, the display filter and the sort. */
export function viewQuery(s: UiState): ViewQuery {
  return { run: s.run, patterns: s.patterns, sort: s.sort };
}

/** The flow IDs on screen now. */
function visibleIds(s: UiState): string[] {
  return s.view.slice(s.top, s.top + tableRows(s));
}

/** The rows on screen now (a row not read yet is left out until the edge has it). */
export function visibleRows(s: UiState): FlowRow[] {
  const out: FlowRow[] = [];
  for (const id of visibleIds(s)) {
    const r = s.rows.get(id);
    if (r) out.push(r);
  }
  return out;
}

/** The flows whose full rows the screen needs: on screen, selected, marked. */
export function wantedIds(s: UiState): string[] {
  const ids = new Set(visibleIds(s));
  if (s.selectedId !== null) ids.add(s.selectedId);
  for (const m of s.marks) ids.add(m.flowId);
  return [...ids];
}

/**
 * The columns on screen: the first one asked stays (the presence label by default), then those
 * after it from `colOffset` on, as many as fit; the ones scrolled past count as hidden.
 */
export function fittedColumns(s: UiState): FittedColumns {
  if (s.colOffset === 0) return fitColumns(s.columns, visibleRows(s), s.ctx, s.width);
  const skipped = s.columns.slice(1, 1 + s.colOffset);
  const f = fitColumns([s.columns[0], ...s.columns.slice(1 + s.colOffset)], visibleRows(s), s.ctx, s.width);
  return { shown: f.shown, hidden: [...skipped, ...f.hidden] };
}

export function selectedIndex(s: UiState): number {
  return s.selectedId === null ? -1 : s.view.indexOf(s.selectedId);
}

export function selectedRow(s: UiState): FlowRow | null {
  return selectedIndex(s) < 0 ? null : (s.rows.get(s.selectedId as string) ?? null);
}
