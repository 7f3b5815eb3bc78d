import { columnByName, type ColumnDef } from './columns';
import { dialogKey, dialogPress } from './filter-dialog';
import { MENU_BAR, clamp, detailsLayout, inside, mainLayout, tooSmall } from './layout';
import { detailsMaxScroll, dialogHit, menuHit, menuRect, TOOLS_MENU } from './overlays';
import { applyFreeze, fitColumns, type FittedColumns } from './table';
import { rowKey, type FlowRow, type Snapshot } from './types';
import { emptySnapshot } from './snapshot';
import type { LabelName } from './labels';
import type { SortSpec } from './table';
import type { Effect, InitOptions, Key, Mark, UiEvent, UiState } from './ui-state';

/**
 * Everything the screen shows is a pure function of this state; every key, click, resize and
 * database read goes through update(). Side effects the edge must carry out (write label lines,
 * quit) are queued in `outbox`; what to read next follows from the state (a new queryVersion,
 * rows that scrolled into sight, a new search term) and is done by Session (session.ts).
 */

export function initialState(o: InitOptions): UiState {
  return {
    ...o,
    snapshot: emptySnapshot('waiting for the first read of the database'),
    pending: null,
    ctx: { monitorStart: null, clock: null },
    view: [],
    rows: new Map(),
    queryVersion: 0,
    selectedId: null,
    top: 0,
    sort: { column: columnByName('bytes') as ColumnDef, desc: true },
    colOffset: 0,
    frozen: null,
    paused: false,
    searchInput: '',
    searchTerm: '',
    searchHits: null,
    overlay: 'none',
    menuIndex: 0,
    dialog: { input: '', error: null, selected: 0, focus: 'input' },
    detailsScroll: 0,
    windows: [],
    windowsFor: null,
    marks: [],
    message: null,
    outbox: [],
    quit: false,
  };
}

/** One name per key: 'C-c' for control keys, the character for printable keys, else blessed's name. */
function keyId(k: Key): string {
  if (k.ctrl && k.name) return `C-${k.name}`;
  if (k.shift && k.name === 'tab') return 'S-tab';
  if (k.ch && k.ch.length === 1 && k.ch >= ' ' && k.ch !== '\x7f') return k.ch;
  return k.name ?? '';
}

export function tableRows(s: UiState): number {
  return mainLayout(s.height).tableRows;
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

function selectedIndex(s: UiState): number {
  return s.selectedId === null ? -1 : s.view.indexOf(s.selectedId);
}

export function selectedRow(s: UiState): FlowRow | null {
  return selectedIndex(s) < 0 ? null : (s.rows.get(s.selectedId as string) ?? null);
}

/** The moment a live label starts or ends: the wall clock live, the packet clock on replay. */
function markTime(s: UiState, nowS: number): number {
  const live = (s.snapshot.meta.source ?? '').startsWith('iface:');
  return live || s.snapshot.meta.clock === null ? nowS : s.snapshot.meta.clock;
}

/** Keeps the selection on its flow ID, or on the same position if the flow left; scrolls it into sight. */
function settle(s: UiState, fallbackIndex = 0): UiState {
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

function moveTo(s: UiState, index: number): UiState {
  if (s.view.length === 0) return s;
  const i = clamp(index, 0, s.view.length - 1);
  return settle({ ...s, selectedId: s.view[i] });
}

/** The database's order with the freeze applied; the selection keeps its flow, or its place. */
function rebuildView(s: UiState): UiState {
  const before = selectedIndex(s);
  const { view, frozen } = applyFreeze(s.snapshot.order, s.frozen);
  return settle({ ...s, view, frozen }, before < 0 ? 0 : before);
}

function applySnapshot(s: UiState, snapshot: Snapshot): UiState {
  const ctx = { monitorStart: snapshot.meta.monitorStart, clock: snapshot.meta.clock };
  return rebuildView({ ...s, snapshot, pending: null, ctx });
}

function applyRows(s: UiState, rows: FlowRow[], replace: boolean): UiState {
  const map = replace ? new Map<string, FlowRow>() : new Map(s.rows);
  for (const r of rows) map.set(rowKey(r), r);
  return closeEndedMarks({ ...s, rows: map });
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
function mark(s: UiState, flowId: string, label: LabelName | null, t: number): UiState {
  const open = s.marks.find((m) => m.flowId === flowId);
  const marks = s.marks.filter((m) => m.flowId !== flowId);
  const out: Effect[] =
    open && t > open.since ? [{ kind: 'label', line: { start: open.since, end: t, label: open.label } }] : [];
  if (label !== null) marks.push({ flowId, label, since: t });
  // a new mark shows as MARK in the status bar; saying it again would push the rest off the line
  const message = label !== null ? null : open ? `stopped marking flow ${flowId}` : 'no mark to stop on this flow';
  return { ...s, marks, outbox: s.outbox.concat(out), message };
}

function quit(s: UiState, nowS: number): UiState {
  const t = markTime(s, nowS);
  const out: Effect[] = s.marks
    .filter((m) => t > m.since)
    .map((m) => ({ kind: 'label', line: { start: m.since, end: t, label: m.label } }));
  return { ...s, marks: [], outbox: s.outbox.concat(out, [{ kind: 'quit' }]), quit: true };
}

/** The new order comes with the next read of the database, which a new queryVersion asks for at once. */
function setSort(s: UiState, sort: SortSpec): UiState {
  return {
    ...s,
    sort,
    frozen: null,
    queryVersion: s.queryVersion + 1,
    message: `sorted by ${sort.column.name} ${sort.desc ? 'descending' : 'ascending'}`,
  };
}

function sortNext(s: UiState): UiState {
  const shown = fittedColumns(s).shown.map((c) => c.def);
  if (shown.length === 0) return s;
  const i = shown.indexOf(s.sort.column);
  const column = shown[(i + 1) % shown.length];
  return setSort(s, { column, desc: column.align === 'right' });
}

/** Moves to the next row (from `start`, by `step`, wrapping) that the database found for `term`. */
function searchFrom(s: UiState, term: string, start: number, step: 1 | -1): UiState {
  const n = s.view.length;
  const hits = s.searchHits?.term === term ? s.searchHits.ids : null;
  if (term === '' || n === 0 || hits === null) return s;
  for (let k = 0; k < n; k++) {
    const i = (((start + k * step) % n) + n) % n;
    if (hits.has(s.view[i])) return moveTo(s, i);
  }
  return { ...s, message: `no flow matches '${term}'` };
}

function searchKey(s: UiState, id: string): UiState {
  switch (id) {
    case 'escape':
      return { ...s, overlay: 'none', searchInput: '' };
    case 'enter':
      return {
        ...searchFrom(s, s.searchInput, Math.max(0, selectedIndex(s)), 1),
        overlay: 'none',
        searchTerm: s.searchInput,
      };
    case 'backspace':
      return { ...s, searchInput: s.searchInput.slice(0, -1) };
    default:
      // the edge looks the term up and answers with searchHits, which jumps as you type
      return id.length === 1 ? { ...s, searchInput: s.searchInput + id } : s;
  }
}

function menuKey(s: UiState, id: string, now: number): UiState {
  switch (id) {
    case 'escape':
      return { ...s, overlay: 'none' };
    case 'up':
    case 'down': {
      const n = TOOLS_MENU.length;
      return { ...s, menuIndex: (s.menuIndex + (id === 'up' ? n - 1 : 1)) % n };
    }
    case 'enter':
      return mainKey({ ...s, overlay: 'none' }, TOOLS_MENU[s.menuIndex].key, now);
    default: {
      const item = TOOLS_MENU.find((m) => m.key === id);
      return item ? mainKey({ ...s, overlay: 'none' }, item.key, now) : { ...s, overlay: 'none' };
    }
  }
}

function detailsKey(s: UiState, id: string): UiState {
  const page = Math.max(1, detailsLayout(s.width, s.height).textRows - 2);
  const max = detailsMaxScroll(s);
  const to = (n: number): UiState => ({ ...s, detailsScroll: clamp(n, 0, max) });
  switch (id) {
    case 'up':
    case 'k':
      return to(s.detailsScroll - 1);
    case 'down':
    case 'j':
      return to(s.detailsScroll + 1);
    case 'pageup':
      return to(s.detailsScroll - page);
    case 'pagedown':
    case ' ':
      return to(s.detailsScroll + page);
    case 'home':
      return to(0);
    case 'end':
      return to(max);
    default:
      return { ...s, overlay: 'none' };
  }
}

function mainKey(s: UiState, id: string, now: number): UiState {
  const i = selectedIndex(s);
  const page = tableRows(s);
  const row = selectedRow(s);
  switch (id) {
    case 'up':
    case 'k':
      return moveTo(s, i - 1);
    case 'down':
    case 'j':
      return moveTo(s, i + 1);
    case 'pageup':
      return moveTo(s, i - page);
    case 'pagedown':
      return moveTo(s, i + page);
    case 'home':
    case 'g':
      return moveTo(s, 0);
    case 'end':
    case 'G':
      return moveTo(s, s.view.length - 1);
    case 'enter':
      return row ? { ...s, overlay: 'details', detailsScroll: 0 } : { ...s, message: 'no flow selected' };
    case 'right':
      // stop once the last column is on screen
      return fittedColumns(s).shown.some((c) => c.def === s.columns[s.columns.length - 1])
        ? s
        : { ...s, colOffset: Math.min(s.colOffset + 1, Math.max(0, s.columns.length - 2)) };
    case 'left':
      return { ...s, colOffset: Math.max(0, s.colOffset - 1) };
    case 'f':
      return { ...s, overlay: 'filter', dialog: { ...s.dialog, error: null, focus: 'input' } };
    case 's':
      return sortNext(s);
    case 'S':
      return setSort(s, { ...s.sort, desc: !s.sort.desc });
    case 'o':
      return s.frozen
        ? rebuildView({ ...s, frozen: null, message: `order follows the sort (${s.sort.column.name}) again` })
        : { ...s, frozen: s.view.slice(), message: 'rows stay where they are (o unfreezes)' };
    case 'p':
      return s.paused
        ? s.pending
          ? { ...applySnapshot({ ...s, paused: false }, s.pending), message: 'resumed' }
          : { ...s, paused: false, message: 'resumed' }
        : { ...s, paused: true, message: 'the table stays as it is (p resumes)' };
    case '/':
      return { ...s, overlay: 'search', searchInput: '' };
    case 'n':
      return searchFrom(s, s.searchTerm, i + 1, 1);
    case 'N':
      return searchFrom(s, s.searchTerm, i - 1, -1);
    case '?':
    case 'h':
      return { ...s, overlay: 'help' };
    case 't':
    case 'f2':
    case 'f10':
      return { ...s, overlay: 'menu', menuIndex: 0 };
    case '1':
    case '0':
    case 'x':
      if (!row) return { ...s, message: 'select a flow to mark' };
      return mark(s, rowKey(row), id === 'x' ? null : id === '1' ? 'person' : 'background', markTime(s, now));
    case 'q':
    case 'C-c':
      return quit(s, now);
    default:
      return s;
  }
}

function onKey(s0: UiState, key: Key, now: number): UiState {
  const id = keyId(key);
  if (id === 'return' || id === '') return s0;
  const s = s0.message === null ? s0 : { ...s0, message: null };
  if (id === 'C-c') return quit(s, now);
  switch (s.overlay) {
    case 'filter':
      return dialogKey(s, id);
    case 'search':
      return searchKey(s, id);
    case 'menu':
      return menuKey(s, id, now);
    case 'details':
      return id === 'q' ? { ...s, overlay: 'none' } : detailsKey(s, id);
    case 'help':
      return { ...s, overlay: 'none' };
    default:
      return mainKey(s, id, now);
  }
}

function onClick(s: UiState, x: number, y: number, now: number): UiState {
  if (tooSmall(s.width, s.height)) return s;
  if (s.overlay === 'menu') {
    const item = menuHit(s, x, y);
    if (item >= 0) return mainKey({ ...s, overlay: 'none', menuIndex: item }, TOOLS_MENU[item].key, now);
    if (!inside(menuRect(), x, y)) return { ...s, overlay: 'none' };
    return s;
  }
  if (s.overlay === 'filter') {
    const hit = dialogHit(s, x, y);
    if (hit === null) return s;
    if (hit.kind === 'button') return dialogPress({ ...s, dialog: { ...s.dialog, focus: hit.button } }, hit.button);
    if (hit.kind === 'pattern') return { ...s, dialog: { ...s.dialog, selected: hit.index } };
    return { ...s, dialog: { ...s.dialog, focus: 'input' } };
  }
  if (s.overlay !== 'none' && s.overlay !== 'search') return { ...s, overlay: 'none' };
  const layout = mainLayout(s.height);
  if (y === layout.menuY) {
    const item = MENU_BAR.find((m) => x >= m.x && x < m.x + m.label.length);
    if (item?.label === 'Tools') return { ...s, overlay: 'menu', menuIndex: 0 };
    if (item?.label === 'Help') return { ...s, overlay: 'help' };
    return s;
  }
  if (y === layout.headerY) {
    const col = fittedColumns(s).shown.find((c) => x >= c.x && x < c.x + c.width);
    if (!col) return s;
    const desc = col.def === s.sort.column ? !s.sort.desc : col.def.align === 'right';
    return setSort(s, { column: col.def, desc });
  }
  if (y >= layout.tableTop && y < layout.tableTop + layout.tableRows) {
    const index = s.top + (y - layout.tableTop);
    return index < s.view.length ? moveTo(s, index) : s;
  }
  return s;
}

export function update(s: UiState, e: UiEvent): UiState {
  switch (e.type) {
    case 'key':
      return onKey(s, e.key, e.now);
    case 'click':
      return onClick(s, e.x, e.y, e.now);
    case 'wheel':
      if (s.overlay === 'details') return detailsKey(s, e.delta < 0 ? 'up' : 'down');
      return s.overlay === 'none' ? moveTo(s, selectedIndex(s) + e.delta) : s;
    case 'resize':
      return settle({ ...s, width: e.width, height: e.height }, Math.max(0, selectedIndex(s)));
    case 'data':
      if (s.paused && !e.asked) return { ...s, pending: e.snapshot };
      return applySnapshot(s, e.snapshot);
    case 'notice':
      return { ...s, message: e.text };
    case 'rows':
      return applyRows(s, e.rows, e.replace);
    case 'searchHits': {
      const next = { ...s, searchHits: { term: e.term, ids: new Set(e.ids) } };
      return s.overlay === 'search' && e.term === s.searchInput
        ? searchFrom(next, e.term, Math.max(0, selectedIndex(s)), 1)
        : next;
    }
    case 'windows':
      if (s.paused && s.windowsFor === e.flowId) return s;
      return { ...s, windows: e.rows, windowsFor: e.flowId };
  }
}

/** Effects queued by the last updates, and the state without them. */
export function drain(s: UiState): [Effect[], UiState] {
  return s.outbox.length === 0 ? [[], s] : [s.outbox, { ...s, outbox: [] }];
}
