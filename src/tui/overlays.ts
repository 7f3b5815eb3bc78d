import { detailsParts, lineCount, partLines } from './details-text';
import { helpLines, TOOLS_MENU } from './keys';
import { centered, detailsLayout, inside, type DetailsCharts, type Rect } from './layout';
import { charts, escapeTags } from './render-text';
import type { DialogFocus, UiState } from './ui-state';
import { fit } from './table';

/** Boxes drawn over the table: the Tools menu, the Filter dialog, help and flow details. */
export interface OverlayView {
  rect: Rect;
  title: string;
  /** content lines inside the border, blessed tags escaped */
  lines: string[];
  /** details view: where the edge draws the line charts (the lines leave those rows blank) */
  charts?: DetailsCharts;
}

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

/** The keys, then where marks go: fits 80×24. */
function helpView(s: UiState): OverlayView {
  const text = [
    ...helpLines(),
    '',
    `Marks (1 0 x) go to ${s.labelsPath}`,
    'as start,end,label lines; train on them: spymate train TRACE --labels FILE',
  ];
  const width = Math.min(s.width, Math.max(...text.map((l) => l.length)) + 4);
  const rect = centered(s.width, s.height, width, text.length + 2);
  const lines = text.map((l) => escapeTags(fit(` ${l}`, rect.width - 2)));
  return { rect, title: 'Keys (any key closes)', lines };
}

/** The head of the details view when there is no room for charts: the main screen's sparklines. */
function detailsSparkRows(s: UiState, rows: number): string[] {
  const row = s.selectedId === null ? null : (s.rows.get(s.selectedId) ?? null);
  const head = new Array<string>(rows).fill('');
  if (!row || rows < 2) return head;
  const c = charts(s, row, s.width - 3, 1);
  head[0] = ` ${c.presence[0]}`;
  head[1] = ` ${c.bitrate[0]}`;
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
