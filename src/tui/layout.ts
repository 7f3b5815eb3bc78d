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
  sparkTitleY: number;
  sparkPresenceY: number;
  sparkBitrateY: number;
  statusY: number;
  /** the second status line: filter, sort, marks, messages */
  status2Y: number;
}

export function mainLayout(height: number): MainLayout {
  return {
    menuY: 0,
    headerY: 1,
    tableTop: 2,
    tableRows: Math.max(1, height - 7),
    sparkTitleY: height - 5,
    sparkPresenceY: height - 4,
    sparkBitrateY: height - 3,
    statusY: height - 2,
    status2Y: height - 1,
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
