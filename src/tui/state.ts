import { columnByName, type ColumnDef } from './columns';
import { dialogKey, dialogPress } from './filter-dialog';
import { MENU_BAR, inside, tooSmall } from './layout';
import { dialogHit, menuHit, menuRect } from './overlays';
import { emptySnapshot } from '../store/view-types';
import { applyRows, applySnapshot, applyWindows, moveTo, quit, searchFrom, setSort, settle } from './actions';
import { command, keyId, TOOLS_MENU } from './keys';
import { fittedColumns, layoutOf, selectedIndex } from './selectors';
import type { Effect, InitOptions, Key, UiEvent, UiState } from './ui-state';

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
    swapped: [],
    message: null,
    outbox: [],
    quit: false,
  };
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
      return TOOLS_MENU[s.menuIndex].command.run({ ...s, overlay: 'none' }, now);
    default: {
      const item = TOOLS_MENU.find((m) => m.command.keys.includes(id));
      return item ? item.command.run({ ...s, overlay: 'none' }, now) : { ...s, overlay: 'none' };
    }
  }
}

function closeOverlay(s: UiState): UiState {
  return { ...s, overlay: 'none' };
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
      return (command('details', id)?.run ?? closeOverlay)(s, now);
    case 'help':
      return closeOverlay(s);
    default:
      return command('main', id)?.run(s, now) ?? s;
  }
}

function onClick(s: UiState, x: number, y: number, now: number): UiState {
  if (tooSmall(s.width, s.height)) return s;
  if (s.overlay === 'menu') {
    const item = menuHit(s, x, y);
    if (item >= 0) return TOOLS_MENU[item].command.run({ ...s, overlay: 'none', menuIndex: item }, now);
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
  const layout = layoutOf(s);
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
      if (s.overlay === 'details') return (command('details', e.delta < 0 ? 'up' : 'down')?.run ?? closeOverlay)(s, 0);
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
      return applyWindows(s, e.flowId, e.rows);
  }
}

/** Effects queued by the last updates, and the state without them. */
export function drain(s: UiState): [Effect[], UiState] {
  return s.outbox.length === 0 ? [[], s] : [s.outbox, { ...s, outbox: [] }];
}
