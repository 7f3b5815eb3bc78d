import {
  applySnapshot,
  markTime,
  mark,
  moveTo,
  quit,
  rebuildView,
  searchFrom,
  setSort,
  sortNext,
  swapSides,
} from './actions';
import { detailsMaxScroll } from './details-text';
import { clamp, detailsLayout } from './layout';
import { fittedColumns, selectedIndex, selectedRow, tableRows } from './selectors';
import type { Key, UiState } from './ui-state';
import { rowKey } from '../store/view-types';

/**
 * The keys, once: this table drives the key handler (state.ts), the Tools menu and the help screen
 * (overlays.ts), and the key list in docs/tui.md (a test keeps it in step, keysMarkdown()).
 */

/** Where a key works: the main screen, or the details view (Enter). */
export type KeyContext = 'main' | 'details';

export interface KeyCommand {
  /** key ids, as keyId() names them: 'up', 'k', 'C-c', 'f10', '/' */
  keys: readonly string[];
  run(s: UiState, now: number): UiState;
  /** the Tools menu item, for the commands that have one (the menu lists them in table order) */
  menu?: string;
}

export interface KeyGroup {
  context: KeyContext;
  /** the help screen's line */
  help: string;
  /** docs/tui.md's text, when it says more than the help line */
  doc?: string;
  commands: readonly KeyCommand[];
}

/** One name per key: 'C-c' for control keys, the character for printable keys, else blessed's name. */
export function keyId(k: Key): string {
  if (k.ctrl && k.name) return `C-${k.name}`;
  if (k.shift && k.name === 'tab') return 'S-tab';
  if (k.ch && k.ch.length === 1 && k.ch >= ' ' && k.ch !== '\x7f') return k.ch;
  return k.name ?? '';
}

const KEY_NAMES: Record<string, string> = {
  up: 'Up',
  down: 'Down',
  left: 'Left',
  right: 'Right',
  pageup: 'PgUp',
  pagedown: 'PgDn',
  home: 'Home',
  end: 'End',
  enter: 'Enter',
  escape: 'Esc',
  ' ': 'Space',
};

/** How the screen and the docs write a key id: 'pageup' → 'PgUp', 'f10' → 'F10', 'C-c' → 'Ctrl-C'. */
export function keyLabel(id: string): string {
  if (id.startsWith('C-')) return `Ctrl-${id.slice(2).toUpperCase()}`;
  if (/^f\d+$/.test(id)) return id.toUpperCase();
  return KEY_NAMES[id] ?? id;
}

/** A group's keys as the help screen writes them: a command's keys joined by '/', commands apart. */
function groupLabel(g: KeyGroup): string {
  return g.commands.map((c) => c.keys.map(keyLabel).join('/')).join(' ');
}

function openDetails(s: UiState): UiState {
  return selectedRow(s) ? { ...s, overlay: 'details', detailsScroll: 0 } : { ...s, message: 'no flow selected' };
}

function markSelected(s: UiState, label: 'person' | 'background' | null, now: number): UiState {
  const row = selectedRow(s);
  if (!row) return { ...s, message: 'select a flow to mark' };
  // a mark labels what is happening now: a call that has ended has no now (a replay that is over neither)
  if (row.ended && label !== null) return { ...s, message: 'this call has ended: marks label live calls only' };
  return mark(s, rowKey(row), label, markTime(s, now));
}

function scrollDetails(s: UiState, to: (s: UiState, page: number, max: number) => number): UiState {
  const page = Math.max(1, detailsLayout(s.width, s.height).textRows - 2);
  const max = detailsMaxScroll(s);
  return { ...s, detailsScroll: clamp(to(s, page, max), 0, max) };
}

const move = (by: (s: UiState, i: number) => number) => (s: UiState) => moveTo(s, by(s, selectedIndex(s)));

export const KEYS: readonly KeyGroup[] = [
  {
    context: 'main',
    help: 'select a flow',
    doc: 'select a flow; the selection stays on the same flow ID when rows move',
    commands: [
      { keys: ['up', 'k'], run: move((_, i) => i - 1) },
      { keys: ['down', 'j'], run: move((_, i) => i + 1) },
    ],
  },
  {
    context: 'main',
    help: 'move by a page / to the first or last flow',
    commands: [
      { keys: ['pageup'], run: move((s, i) => i - tableRows(s)) },
      { keys: ['pagedown'], run: move((s, i) => i + tableRows(s)) },
      { keys: ['home', 'g'], run: move(() => 0) },
      { keys: ['end', 'G'], run: move((s) => s.view.length - 1) },
    ],
  },
  {
    context: 'main',
    help: 'scroll to the columns that did not fit',
    doc: 'scroll the columns after the first one to those that did not fit (the hidden ones are named in the status bar)',
    commands: [
      { keys: ['left'], run: (s) => ({ ...s, colOffset: Math.max(0, s.colOffset - 1) }) },
      {
        keys: ['right'],
        // stop once the last column is on screen
        run: (s) =>
          fittedColumns(s).shown.some((c) => c.def === s.columns[s.columns.length - 1])
            ? s
            : { ...s, colOffset: Math.min(s.colOffset + 1, Math.max(0, s.columns.length - 2)) },
      },
    ],
  },
  {
    context: 'main',
    help: 'filter by address: 24.62.* 10.0.0.0/8 2001:db8::/32',
    doc: 'filter dialog (also Tools → Filter): addresses, wildcards (24.62.*), CIDR, IPv6 prefixes',
    commands: [
      {
        keys: ['f'],
        run: (s) => ({ ...s, overlay: 'filter', dialog: { ...s.dialog, error: null, focus: 'input' } }),
        menu: 'Filter by address...',
      },
    ],
  },
  {
    context: 'main',
    help: 'sort by next column / reverse (or click a header)',
    doc: 'sort by the next shown column / reverse the order; clicking a header sorts by it (click again to reverse)',
    commands: [
      { keys: ['s'], run: sortNext, menu: 'Sort by next column' },
      { keys: ['S'], run: (s) => setSort(s, { ...s.sort, desc: !s.sort.desc }), menu: 'Reverse sort' },
    ],
  },
  {
    context: 'main',
    help: 'freeze the row order while you read',
    doc: "freeze the row order while you read (as iftop's `o`): rows stay put, new flows are added at the end; `o` again follows the sort",
    commands: [
      {
        keys: ['o'],
        run: (s) =>
          s.frozen
            ? rebuildView({ ...s, frozen: null, message: `order follows the sort (${s.sort.column.name}) again` })
            : { ...s, frozen: s.view.slice(), message: 'rows stay where they are (o unfreezes)' },
        menu: 'Freeze / unfreeze order',
      },
    ],
  },
  {
    context: 'main',
    help: 'pause the table; the database moves on',
    doc: 'pause: the table and charts stay still while the database moves on (the status bar stays live); `p` resumes at the latest data',
    commands: [
      {
        keys: ['p'],
        run: (s) =>
          s.paused
            ? s.pending
              ? { ...applySnapshot({ ...s, paused: false }, s.pending), message: 'resumed' }
              : { ...s, paused: false, message: 'resumed' }
            : { ...s, paused: true, message: 'the table stays as it is (p resumes)' },
        menu: 'Pause / resume',
      },
    ],
  },
  {
    context: 'main',
    help: 'search ID, address, port, app; next / previous',
    doc: 'search flow ID, addresses, ports (by part of their digits), app, presence: jumps as you type; Enter keeps the term, `n`/`N` next/previous match',
    commands: [
      { keys: ['/'], run: (s) => ({ ...s, overlay: 'search', searchInput: '' }), menu: 'Search...' },
      { keys: ['n'], run: (s) => searchFrom(s, s.searchTerm, selectedIndex(s) + 1, 1) },
      { keys: ['N'], run: (s) => searchFrom(s, s.searchTerm, selectedIndex(s) - 1, -1) },
    ],
  },
  {
    context: 'main',
    help: 'details: charts, every column, window history',
    doc:
      "details: charts of the flow's history (see below), every column of the flow, its window history (start, " +
      "packets, bytes, bitrate, bare classifier's prediction and P, final prediction, P(person), certainty, every " +
      'feature; lines wider than the terminal are cut) and every feature of the last window in full',
    commands: [{ keys: ['enter'], run: openDetails, menu: 'Flow details' }],
  },
  {
    context: 'main',
    help: 'label the selected call: person / background / stop',
    doc: 'live label for the selected flow: person from now / background from now / stop marking (see "Live labelling")',
    commands: [
      { keys: ['1'], run: (s, now) => markSelected(s, 'person', now), menu: 'Mark person now' },
      { keys: ['0'], run: (s, now) => markSelected(s, 'background', now), menu: 'Mark background now' },
      { keys: ['x'], run: (s, now) => markSelected(s, null, now), menu: 'Stop marking' },
    ],
  },
  {
    context: 'main',
    help: 'Tools menu (or click Tools)',
    doc: 'Tools menu (or click **Tools**); Up Down Enter or click an item',
    commands: [{ keys: ['t', 'f2'], run: (s) => ({ ...s, overlay: 'menu', menuIndex: 0 }) }],
  },
  {
    context: 'main',
    help: 'this help (or click Help)',
    commands: [{ keys: ['?', 'h'], run: (s) => ({ ...s, overlay: 'help' }), menu: 'Help' }],
  },
  {
    context: 'main',
    help: 'quit',
    doc: 'quit (also on SIGTERM/SIGHUP): the workers are flushed and the terminal is restored; F10 as in htop and mc',
    commands: [{ keys: ['q', 'f10', 'C-c'], run: (s, now) => quit(s, now), menu: 'Quit' }],
  },
  {
    context: 'details',
    help: 'scroll the text under the charts',
    commands: [
      { keys: ['up', 'k'], run: (s) => scrollDetails(s, (x) => x.detailsScroll - 1) },
      { keys: ['down', 'j'], run: (s) => scrollDetails(s, (x) => x.detailsScroll + 1) },
      { keys: ['pageup'], run: (s) => scrollDetails(s, (x, page) => x.detailsScroll - page) },
      { keys: ['pagedown', ' '], run: (s) => scrollDetails(s, (x, page) => x.detailsScroll + page) },
      { keys: ['home'], run: (s) => scrollDetails(s, () => 0) },
      { keys: ['end'], run: (s) => scrollDetails(s, (_, __, max) => max) },
    ],
  },
  {
    context: 'details',
    help: 'swap local and remote side',
    doc:
      "show the call from its other side: addresses and the two cameras trade places (when the monitor's guess of " +
      'the local side was wrong, e.g. both peers on one address; `--local ADDR:PORT` fixes it for the whole run)',
    commands: [{ keys: ['s'], run: swapSides }],
  },
  {
    context: 'details',
    help: 'close the details (or any other key)',
    commands: [{ keys: ['escape', 'q'], run: (s) => ({ ...s, overlay: 'none' }) }],
  },
];

function table(context: KeyContext): Map<string, KeyCommand> {
  const m = new Map<string, KeyCommand>();
  for (const g of KEYS) if (g.context === context) for (const c of g.commands) for (const k of c.keys) m.set(k, c);
  return m;
}

const BY_CONTEXT: Record<KeyContext, Map<string, KeyCommand>> = { main: table('main'), details: table('details') };

/** The command a key runs where it was pressed, or undefined. */
export function command(context: KeyContext, id: string): KeyCommand | undefined {
  return BY_CONTEXT[context].get(id);
}

/** The Tools menu: the main screen's commands that have an item, in table order. */
export const TOOLS_MENU: ReadonlyArray<{ label: string; keyLabel: string; command: KeyCommand }> = KEYS.filter(
  (g) => g.context === 'main',
).flatMap((g) =>
  g.commands.flatMap((c) => (c.menu ? [{ label: c.menu, keyLabel: keyLabel(c.keys[0]), command: c }] : [])),
);

/** Keys wider than this get a line of their own on the help screen, so the text fits 80 columns. */
const HELP_KEYS_WIDTH = 24;

/** The help screen's key lines: keys, then what they do; the details view's after a heading. */
export function helpLines(): string[] {
  const lines = (context: KeyContext): string[] =>
    KEYS.filter((g) => g.context === context).flatMap((g) => {
      const keys = groupLabel(g);
      return keys.length < HELP_KEYS_WIDTH
        ? [`${keys.padEnd(HELP_KEYS_WIDTH)}${g.help}`]
        : [keys, `${''.padEnd(HELP_KEYS_WIDTH)}${g.help}`];
    });
  return [...lines('main'), '', 'In the details view (Enter):', ...lines('details')];
}

/** The key list of docs/tui.md, a Markdown table. */
export function keysMarkdown(): string {
  const rows = (context: KeyContext): string[] =>
    KEYS.filter((g) => g.context === context).map(
      (g) =>
        `| ${g.commands.map((c) => c.keys.map((k) => `\`${keyLabel(k)}\``).join(' ')).join(' / ')} | ${g.doc ?? g.help} |`,
    );
  return ['| key | action |', '|---|---|', ...rows('main'), '| *details view* | |', ...rows('details')].join('\n');
}
