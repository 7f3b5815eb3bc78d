import { COLUMNS, formatDateTime, humanBitrate } from './columns';
import { centered, detailsLayout, inside, type DetailsCharts, type Rect } from './layout';
import { escapeTags, sparkRows } from './render-text';
import type { DialogFocus, UiState } from './ui-state';
import { fit } from './table';
import { rowKey } from './types';

/** Boxes drawn over the table: the Tools menu, the Filter dialog, help and flow details. */
export interface OverlayView {
  rect: Rect;
  title: string;
  /** content lines inside the border, blessed tags escaped */
  lines: string[];
  /** details view: where the edge draws the line charts (the lines leave those rows blank) */
  charts?: DetailsCharts;
}

export const TOOLS_MENU = [
  { label: 'Filter by address...', key: 'f', keyLabel: 'f' },
  { label: 'Sort by next column', key: 's', keyLabel: 's' },
  { label: 'Reverse sort', key: 'S', keyLabel: 'S' },
  { label: 'Freeze / unfreeze order', key: 'o', keyLabel: 'o' },
  { label: 'Pause / resume', key: 'p', keyLabel: 'p' },
  { label: 'Search...', key: '/', keyLabel: '/' },
  { label: 'Flow details', key: 'enter', keyLabel: 'Enter' },
  { label: 'Mark person now', key: '1', keyLabel: '1' },
  { label: 'Mark background now', key: '0', keyLabel: '0' },
  { label: 'Stop marking', key: 'x', keyLabel: 'x' },
  { label: 'Help', key: '?', keyLabel: '?' },
  { label: 'Quit', key: 'q', keyLabel: 'q' },
] as const;

const MENU_INNER = Math.max(...TOOLS_MENU.map((m) => m.label.length + 2 + m.keyLabel.length)) + 2;

export function menuRect(): Rect {
  return { x: 1, y: 1, width: MENU_INNER + 2, height: TOOLS_MENU.length + 2 };
}

/** Index of the menu item under (x, y), or -1. */
export function menuHit(_s: UiState, x: number, y: number): number {
  const r = menuRect();
  if (!inside(r, x, y) || x === r.x || x === r.x + r.width - 1) return -1;
  const i = y - r.y - 1;
  return i >= 0 && i < TOOLS_MENU.length ? i : -1;
}

function menuView(s: UiState): OverlayView {
  const lines = TOOLS_MENU.map((m, i) => {
    const text = ` ${m.label.padEnd(MENU_INNER - m.keyLabel.length - 2)}${m.keyLabel} `;
    return i === s.menuIndex ? `{inverse}${escapeTags(text)}{/inverse}` : escapeTags(text);
  });
  return { rect: menuRect(), title: 'Tools', lines };
}

const BUTTONS: Array<{ button: DialogFocus; label: string }> = [
  { button: 'add', label: '[ Add ]' },
  { button: 'remove', label: '[ Remove ]' },
  { button: 'clear', label: '[ Clear all ]' },
  { button: 'close', label: '[ Close ]' },
];
const BUTTON_GAP = 2;

function buttonXs(): number[] {
  const xs: number[] = [];
  let x = 1;
  for (const b of BUTTONS) {
    xs.push(x);
    x += b.label.length + BUTTON_GAP;
  }
  return xs;
}

/** Content rows of the dialog, from the top of the inside of its border. */
const D_INPUT = 1;
const D_BUTTONS = 3;
const D_PATTERNS = 5;

export function dialogRect(s: UiState): Rect {
  const listRows = Math.max(1, s.patterns.length);
  return centered(s.width, s.height, Math.min(78, s.width - 2), D_PATTERNS + listRows + 1 + 2);
}

function patternRows(s: UiState): { first: number; count: number } {
  const room = Math.max(1, dialogRect(s).height - 2 - D_PATTERNS - 1);
  const first = Math.max(0, Math.min(s.dialog.selected - room + 1, s.patterns.length - room));
  return { first: Math.max(0, first), count: room };
}

export type DialogHit =
  { kind: 'button'; button: DialogFocus } | { kind: 'pattern'; index: number } | { kind: 'input' };

export function dialogHit(s: UiState, x: number, y: number): DialogHit | null {
  const r = dialogRect(s);
  if (!inside(r, x, y)) return null;
  const cx = x - r.x - 1;
  const cy = y - r.y - 1;
  if (cy === D_INPUT) return { kind: 'input' };
  if (cy === D_BUTTONS) {
    const xs = buttonXs();
    const i = BUTTONS.findIndex((b, k) => cx >= xs[k] && cx < xs[k] + b.label.length);
    return i >= 0 ? { kind: 'button', button: BUTTONS[i].button } : null;
  }
  const { first } = patternRows(s);
  const index = first + cy - D_PATTERNS;
  if (cy >= D_PATTERNS && index < s.patterns.length) return { kind: 'pattern', index };
  return null;
}

function dialogView(s: UiState): OverlayView {
  const rect = dialogRect(s);
  const w = rect.width - 2;
  const d = s.dialog;
  const fieldWidth = Math.max(4, w - 10);
  const field = fit(d.input + (d.focus === 'input' ? '_' : ''), fieldWidth);
  const inputLine = ` Pattern: ${d.focus === 'input' ? `{underline}${escapeTags(field)}{/underline}` : escapeTags(field)}`;
  const error = d.error
    ? s.color
      ? `{red-fg}${escapeTags(fit(` ${d.error}`, w))}{/red-fg}`
      : escapeTags(fit(` ! ${d.error}`, w))
    : '';
  const xs = buttonXs();
  let buttons = '';
  let plain = 0;
  BUTTONS.forEach((b, k) => {
    buttons += ' '.repeat(xs[k] - plain);
    plain = xs[k] + b.label.length;
    buttons += d.focus === b.button ? `{inverse}${b.label}{/inverse}` : b.label;
  });
  const { first, count } = patternRows(s);
  const list =
    s.patterns.length === 0
      ? [escapeTags(fit('   (none: every flow is shown)', w))]
      : s.patterns.slice(first, first + count).map((p, k) => {
          const text = fit(`${first + k === d.selected ? ' > ' : '   '}${p.text}`, w);
          return first + k === d.selected ? `{bold}${escapeTags(text)}{/bold}` : escapeTags(text);
        });
  const lines = [
    escapeTags(fit(' Show only flows whose srcIP or desIP matches one of:', w)),
    inputLine,
    error || escapeTags(fit(' e.g. 24.62.*  10.*.3.*  10.0.0.0/8  2001:db8::/32  192.168.1.15', w)),
    buttons,
    escapeTags(fit(' Active patterns (totals in the status bar stay whole):', w)),
    ...list,
  ];
  while (lines.length < rect.height - 3) lines.push('');
  lines.push(escapeTags(fit(' Enter adds, Tab next, Up/Down pick, Del removes, Esc closes', w)));
  return { rect, title: 'Filter', lines };
}

const HELP_LINES = [
  'Up/Down j/k      select a flow          PgUp/PgDn Home/End   move by page / to the ends',
  'Left/Right       scroll the columns after the first, to those that did not fit',
  'Enter            details: every column, the window history with features and predictions',
  'f                filter dialog: addresses, wildcards (24.62.*), CIDR, IPv6 prefixes',
  's / S            sort by the next shown column / reverse the sort (or click a header)',
  'o                freeze the row order while you read (new flows go to the end)',
  'p                pause: the table stays still while the database moves on',
  '/  n  N          search flow ID, address, port, app; next / previous match',
  '1 / 0 / x        live label for the selected flow: person now / background now / stop',
  't F2 F10         Tools menu (or click Tools)',
  '?                this help                q / Ctrl-C    quit',
  '',
  'Labels go to the labels file as start,end,label (epoch seconds); a mark lasts until',
  'the next mark on that flow, x, the end of the flow, or quit. Train on them with',
  '  spymate train TRACE --labels FILE',
];

function helpView(s: UiState): OverlayView {
  const width = Math.min(s.width, Math.max(...HELP_LINES.map((l) => l.length)) + 4);
  const rect = centered(s.width, s.height, width, HELP_LINES.length + 4);
  const lines = HELP_LINES.map((l) => escapeTags(fit(` ${l}`, rect.width - 2)));
  lines.push('', escapeTags(fit(` labels file: ${s.labelsPath}   (any key closes)`, rect.width - 2)));
  return { rect, title: 'Keys', lines };
}

function num(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

interface DetailsParts {
  head: string[];
  /** the window history, formatted a line at a time: only the lines shown are */
  windows: number;
  windowLine: (k: number) => string;
  tail: string[];
}

/** Every column of the selected flow, then its window history oldest first, then the last window's features. */
function detailsParts(s: UiState): DetailsParts {
  const row = s.selectedId === null ? null : (s.rows.get(s.selectedId) ?? null);
  if (!row) return { head: ['The flow has left the table.'], windows: 0, windowLine: () => '', tail: [] };
  const nameWidth = Math.max(...COLUMNS.map((c) => c.name.length));
  const head = COLUMNS.map((c) => `${String(c.num).padStart(2)} ${c.name.padEnd(nameWidth)}  ${c.text(row, s.ctx)}`);
  head.push(`   exact: ${row.packets} packets, ${row.bytes} bytes, labels file ${s.labelsPath}`);
  head.push(`   why a call: ${row.call_reason ?? 'not recorded (a database from before spymate said why)'}`);
  const wins = s.windowsFor === rowKey(row) ? s.windows : [];
  head.push(
    '',
    `Window history (${wins.length} of ${row.windows} windows, oldest first; raw = bare classifier, final = smoothed, cert = certainty):`,
  );
  const names = wins.length > 0 ? Object.keys(wins[wins.length - 1].features) : [];
  const fws = names.map((n) => Math.max(n.length, 7));
  head.push(
    `  ${'start'.padEnd(19)} ${'pkts'.padStart(5)} ${'bytes'.padStart(7)} ${'bitrate'.padStart(9)} raw P(raw) final P(person) cert  ${names.map((n, k) => n.padStart(fws[k])).join(' ')}`,
  );
  const windowLine = (k: number): string => {
    const w = wins[k];
    const feats = names.map((n, j) => formatFeature(w.features[n]).padStart(fws[j])).join(' ');
    return (
      `  ${formatDateTime(w.start)} ${String(w.packets).padStart(5)} ${String(w.bytes).padStart(7)} ${humanBitrate(w.bitrate).padStart(9)} ` +
      `${num(w.raw, 0).padStart(3)} ${num(w.raw_probability, 2).padStart(6)} ${num(w.presence, 0).padStart(5)} ${num(w.probability, 2).padStart(9)} ` +
      `${(w.certainty === null ? '-' : `${Math.round(w.certainty)}%`).padStart(4)}  ${feats}`
    );
  };
  const tail: string[] = [];
  if (wins.length > 0) {
    tail.push('', 'Features of the last window:');
    const last = wins[wins.length - 1].features;
    const fw = Math.max(...names.map((n) => n.length));
    for (const n of names)
      tail.push(`  ${n.padEnd(fw)}  ${Number.isFinite(last[n]) ? String(Number(last[n].toPrecision(8))) : '-'}`);
  }
  return { head, windows: wins.length, windowLine, tail };
}

function lineCount(p: DetailsParts): number {
  return p.head.length + p.windows + p.tail.length;
}

/** Lines [from, to) of the details text, fitted to `width`: only the windows in that range are formatted. */
export function detailsLines(s: UiState, width: number, from = 0, to = Infinity): string[] {
  return partLines(detailsParts(s), width, from, to);
}

function partLines(p: DetailsParts, width: number, from: number, to: number): string[] {
  const out: string[] = [];
  const end = Math.min(to, lineCount(p));
  for (let i = Math.max(0, from); i < end; i++) {
    const k = i - p.head.length;
    const line = k < 0 ? p.head[i] : k < p.windows ? p.windowLine(k) : p.tail[k - p.windows];
    out.push(fit(` ${line}`, width).trimEnd());
  }
  return out;
}

function formatFeature(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '-';
  return Number.isInteger(v) ? String(v) : Math.abs(v) >= 1000 ? v.toFixed(0) : v.toPrecision(4);
}

/** detailsLines(s).length without formatting the window history: a scroll key must not format 1 000 windows. */
export function detailsLineCount(s: UiState): number {
  return lineCount(detailsParts(s));
}

/** How far the details text scrolls: its last line at the bottom of the room under the charts. */
export function detailsMaxScroll(s: UiState): number {
  return Math.max(0, detailsLineCount(s) - detailsLayout(s.width, s.height).textRows);
}

/** The head of the details view when there is no room for charts: the main screen's sparklines. */
function detailsSparkRows(s: UiState, rows: number): string[] {
  const row = s.selectedId === null ? null : (s.rows.get(s.selectedId) ?? null);
  const head = new Array<string>(rows).fill('');
  if (!row || rows < 2) return head;
  const [p, b] = sparkRows(s, row, s.width - 3);
  head[0] = ` ${p}`;
  head[1] = ` ${b}`;
  return head;
}

function detailsView(s: UiState): OverlayView {
  const rect: Rect = { x: 0, y: 0, width: s.width, height: s.height };
  const layout = detailsLayout(s.width, s.height);
  const parts = detailsParts(s);
  const total = lineCount(parts);
  const room = layout.textRows;
  const scroll = Math.min(s.detailsScroll, Math.max(0, total - room));
  const where = `${scroll + 1}-${Math.min(total, scroll + room)}/${total}`;
  // cut to the top border: a longer label wraps over the first row of the view
  const title = fit(
    `Flow ${s.selectedId ?? ''} ${where}  (Up/Down/PgUp/PgDn scroll, Esc closes)`,
    Math.max(1, s.width - 6),
  ).trimEnd();
  // the charts are drawn over blank rows; without them the sparkline rows carry their own tags
  const head = layout.charts ? new Array<string>(layout.headRows).fill('') : detailsSparkRows(s, layout.headRows);
  const lines = [...head, ...partLines(parts, rect.width - 2, scroll, scroll + room).map(escapeTags)];
  return layout.charts ? { rect, title, lines, charts: layout.charts } : { rect, title, lines };
}

export function overlayView(s: UiState): OverlayView | null {
  switch (s.overlay) {
    case 'menu':
      return menuView(s);
    case 'filter':
      return dialogView(s);
    case 'help':
      return helpView(s);
    case 'details':
      return detailsView(s);
    default:
      return null;
  }
}
