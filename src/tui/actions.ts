import { clamp } from './layout';
import { applyFreeze, type SortSpec } from './table';
import { fittedColumns, selectedIndex, tableRows } from './selectors';
import { rowKey, type FlowRow, type Snapshot, type WindowRow } from '../store/view-types';
import { otherSideRow, otherSideWindow } from './sides';
import type { LabelName } from './labels';
import type { Effect, Mark, UiState } from './ui-state';

/** Transitions of the UI state that keys, clicks and reads share: pure, each returns a new state. */

/** The moment a live label starts or ends: the wall clock live, the packet clock on replay. */
export function markTime(s: UiState, nowS: number): number {
  const live = (s.snapshot.meta.source ?? '').startsWith('iface:');
  return live || s.snapshot.meta.clock === null ? nowS : s.snapshot.meta.clock;
}

/** Keeps the selection on its flow ID, or on the same position if the flow left; scrolls it into sight. */
export function settle(s: UiState, fallbackIndex = 0): UiState {
  const n = s.view.length;
  if (n === 0) return { ...s, selectedId: null, top: 0 };
  let i = selectedIndex(s);
  if (i < 0) i = clamp(fallbackIndex, 0, n - 1);
  const rows = tableRows(s);
  let top = clamp(s.top, 0, Math.max(0, n - rows));
  if (i < top) top = i;
  if (i >= top + rows) top = i - rows + 1;
  return { ...s, selectedId: s.view[i], top };
}

export function moveTo(s: UiState, index: number): UiState {
  if (s.view.length === 0) return s;
  const i = clamp(index, 0, s.view.length - 1);
  return settle({ ...s, selectedId: s.view[i] });
}

/** The database's order with the freeze applied; the selection keeps its flow, or its place. */
export function rebuildView(s: UiState): UiState {
  const before = selectedIndex(s);
  const { view, frozen } = applyFreeze(s.snapshot.order, s.frozen);
  return settle({ ...s, view, frozen }, before < 0 ? 0 : before);
}

export function applySnapshot(s: UiState, snapshot: Snapshot): UiState {
  const ctx = { monitorStart: snapshot.meta.monitorStart, clock: snapshot.meta.clock };
  return rebuildView({ ...s, snapshot, pending: null, ctx });
}

export function applyRows(s: UiState, rows: FlowRow[], replace: boolean): UiState {
  const map = replace ? new Map<string, FlowRow>() : new Map(s.rows);
  for (const r of rows) map.set(rowKey(r), s.swapped.includes(rowKey(r)) ? otherSideRow(r) : r);
  return closeEndedMarks({ ...s, rows: map });
}

export function applyWindows(s: UiState, flowId: string, windows: WindowRow[]): UiState {
  return { ...s, windows: s.swapped.includes(flowId) ? windows.map(otherSideWindow) : windows, windowsFor: flowId };
}

/** The selected call seen from its other side (or back): which side is local is a guess the user can correct. */
export function swapSides(s: UiState): UiState {
  const id = s.selectedId;
  const row = id === null ? undefined : s.rows.get(id);
  if (id === null || !row) return { ...s, message: 'no flow selected' };
  const swapped = s.swapped.includes(id) ? s.swapped.filter((x) => x !== id) : [...s.swapped, id];
  const local = otherSideRow(row);
  const rows = new Map(s.rows).set(id, local);
  const windows = s.windowsFor === id ? s.windows.map(otherSideWindow) : s.windows;
  const how = swapped.includes(id) ? 'sides swapped' : 'sides as the monitor saw them';
  return { ...s, swapped, rows, windows, message: `${how}: local is ${local.src_ip}:${local.src_port}` };
}

/** A mark on a flow that has ended is closed at the flow's last packet. */
function closeEndedMarks(s: UiState): UiState {
  if (s.marks.length === 0) return s;
  const keep: Mark[] = [];
  const out: Effect[] = [];
  for (const m of s.marks) {
    const row = s.rows.get(m.flowId);
    if (!row || !row.ended) keep.push(m);
    else if (row.last_ts > m.since)
      out.push({ kind: 'label', line: { start: m.since, end: row.last_ts, label: m.label } });
  }
  return out.length === 0 && keep.length === s.marks.length ? s : { ...s, marks: keep, outbox: s.outbox.concat(out) };
}

/** Closes the open mark of `flowId` (if any) at `t`, then opens `label` there unless null. */
export function mark(s: UiState, flowId: string, label: LabelName | null, t: number): UiState {
  const open = s.marks.find((m) => m.flowId === flowId);
  const marks = s.marks.filter((m) => m.flowId !== flowId);
  const out: Effect[] =
    open && t > open.since ? [{ kind: 'label', line: { start: open.since, end: t, label: open.label } }] : [];
  if (label !== null) marks.push({ flowId, label, since: t });
  // a new mark shows as MARK in the status bar; the first one also says where the labels go
  const message =
    label !== null
      ? s.marks.length === 0 && !open
        ? `labels go to ${s.labelsPath}`
        : null
      : open
        ? `stopped marking flow ${flowId}`
        : 'no mark to stop on this flow';
  return { ...s, marks, outbox: s.outbox.concat(out), message };
}

export function quit(s: UiState, nowS: number): UiState {
  const t = markTime(s, nowS);
  const out: Effect[] = s.marks
    .filter((m) => t > m.since)
    .map((m) => ({ kind: 'label', line: { start: m.since, end: t, label: m.label } }));
  return { ...s, marks: [], outbox: s.outbox.concat(out, [{ kind: 'quit' }]), quit: true };
}

/** The new order comes with the next read of the database, which a new queryVersion asks for at once. */
export function setSort(s: UiState, sort: SortSpec): UiState {
  return {
    ...s,
    sort,
    frozen: null,
    queryVersion: s.queryVersion + 1,
    message: `sorted by ${sort.column.name} ${sort.desc ? 'descending' : 'ascending'}`,
  };
}

export function sortNext(s: UiState): UiState {
  const shown = fittedColumns(s).shown.map((c) => c.def);
  if (shown.length === 0) return s;
  const i = shown.indexOf(s.sort.column);
  const column = shown[(i + 1) % shown.length];
  return setSort(s, { column, desc: column.align === 'right' });
}

/** Moves to the next row (from `start`, by `step`, wrapping) that the database found for `term`. */
export function searchFrom(s: UiState, term: string, start: number, step: 1 | -1): UiState {
  const n = s.view.length;
  const hits = s.searchHits?.term === term ? s.searchHits.ids : null;
  if (term === '' || n === 0 || hits === null) return s;
  for (let k = 0; k < n; k++) {
    const i = (((start + k * step) % n) + n) % n;
    if (hits.has(s.view[i])) return moveTo(s, i);
  }
  return { ...s, message: `no flow matches '${term}'` };
}
