/**
 * Where things are on the screen, as pure functions of its size: the renderer draws there and the
 * mouse handler maps clicks back with the same numbers.
 */

/** Below this the screen shows a message instead of a squeezed table. */
export const MIN_WIDTH = 40;
export const MIN_HEIGHT = 10;

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface MainLayout {
  menuY: number;
  headerY: number;
  tableTop: number;
  tableRows: number;
  /** the selected call's charts: a title line, then P(person) and bitrate, `chartRows` each */
  chartTitleY: number;
  presenceY: number;
  bitrateY: number;
  chartRows: number;
  statusY: number;
  /** the second status line: filter, sort, marks, messages */
  status2Y: number;
}

/** Lines that are always there: menu bar, table header, chart title, two status lines. */
const FIXED_LINES = 5;
/** The table keeps room for this many calls more than it has, so that a new one does not move the charts at once. */
const TABLE_SPARE_ROWS = 2;
const TABLE_MIN_ROWS = 3;
/** Taller charts add little: 10 lines are 80 steps. */
const CHART_MAX_ROWS = 10;

/**
 * The table takes the rows its calls need (and a little more), the selected call's two charts the
 * rest (up to CHART_MAX_ROWS each), shared evenly: with a few calls the charts are tall, with many
 * they shrink to one line each.
 */
export function mainLayout(height: number, flows: number): MainLayout {
  const room = Math.max(3, height - FIXED_LINES);
  const tableRows = clamp(Math.max(flows + TABLE_SPARE_ROWS, TABLE_MIN_ROWS), 1, room - 2);
  const chartRows = Math.min(CHART_MAX_ROWS, Math.floor((room - tableRows) / 2));
  // what the charts leave goes to the table
  const rows = room - 2 * chartRows;
  const chartTitleY = 2 + rows;
  return {
    menuY: 0,
    headerY: 1,
    tableTop: 2,
    tableRows: rows,
    chartTitleY,
    presenceY: chartTitleY + 1,
    bitrateY: chartTitleY + 1 + chartRows,
    chartRows,
    statusY: height - 2,
    status2Y: height - 1,
  };
}

/**
 * The details view (Enter) draws blessed-contrib line charts of the flow's history above its text
 * from 80x24 on. Below that a braille chart has too few cells to read: at 40x10 each chart would
 * be a handful of dots with its axis labels taking half of it, so the view shows the one-line
 * text sparklines of the main screen instead.
 */
const CHART_MIN_WIDTH = 80;
const CHART_MIN_HEIGHT = 24;
/** chart height in rows (border included): 10 at 80x24, growing with the terminal up to 20 */
const CHART_ROWS_MIN = 10;
const CHART_ROWS_MAX = 20;

/** Where the details view's two charts go, side by side (screen cells, borders included). */
export interface DetailsCharts {
  presence: Rect;
  bitrate: Rect;
}

export interface DetailsLayout {
  /** null: the sparklines instead */
  charts: DetailsCharts | null;
  /** content rows inside the border above the scrolling text: the charts or the sparklines */
  headRows: number;
  /** content rows left for the scrolling text */
  textRows: number;
}

/** The details overlay takes the whole screen, with a border; the head sits at the top inside it. */
export function detailsLayout(width: number, height: number): DetailsLayout {
  const inner = Math.max(0, height - 2);
  if (width < CHART_MIN_WIDTH || height < CHART_MIN_HEIGHT) {
    const headRows = Math.min(3, Math.max(0, inner - 1));
    return { charts: null, headRows, textRows: Math.max(1, inner - headRows) };
  }
  const rows = clamp(Math.floor(inner * 0.45), CHART_ROWS_MIN, CHART_ROWS_MAX);
  const left = Math.floor((width - 2) / 2);
  return {
    charts: {
      presence: { x: 1, y: 1, width: left, height: rows },
      bitrate: { x: 1 + left, y: 1, width: width - 2 - left, height: rows },
    },
    headRows: rows,
    textRows: inner - rows,
  };
}

export function tooSmall(width: number, height: number): boolean {
  return width < MIN_WIDTH || height < MIN_HEIGHT;
}

/** The labels on the menu bar and the screen columns they take (clickable). */
export const MENU_BAR = [
  { label: 'Tools', x: 1 },
  { label: 'Help', x: 8 },
] as const;

export function centered(width: number, height: number, w: number, h: number): Rect {
  const cw = Math.min(w, width);
  const ch = Math.min(h, height);
  return { x: Math.floor((width - cw) / 2), y: Math.floor((height - ch) / 2), width: cw, height: ch };
}

export function inside(r: Rect, x: number, y: number): boolean {
  return x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height;
}

export function clamp(n: number, lo: number, hi: number): number {
  return Math.max(lo, Math.min(hi, n));
}
