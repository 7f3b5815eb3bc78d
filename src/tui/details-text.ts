import { COLUMNS, formatDateTime, humanBitrate } from './columns';
import { detailsLayout } from './layout';
import { fit } from './table';
import type { UiState } from './ui-state';
import { rowKey } from '../store/view-types';

/**
 * The text of the details view: every column of the selected flow, its window history and the
 * last window's features. Only the lines on screen are formatted (a flow may have 2000 windows).
 */

function num(v: number | null, digits: number): string {
  return v === null || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export interface DetailsParts {
  head: string[];
  /** the window history, formatted a line at a time: only the lines shown are */
  windows: number;
  windowLine: (k: number) => string;
  tail: string[];
}

/** Every column of the selected flow, then its window history oldest first, then the last window's features. */
export function detailsParts(s: UiState): DetailsParts {
  const row = s.selectedId === null ? null : (s.rows.get(s.selectedId) ?? null);
  if (!row) return { head: ['The flow has left the table.'], windows: 0, windowLine: () => '', tail: [] };
  const nameWidth = Math.max(...COLUMNS.map((c) => c.name.length));
  const head = COLUMNS.map((c) => `${String(c.num).padStart(2)} ${c.name.padEnd(nameWidth)}  ${c.text(row, s.ctx)}`);
  head.push(`   exact: ${row.packets} packets, ${row.bytes} bytes, labels file ${s.labelsPath}`);
  head.push(`   why a call: ${row.call_reason ?? 'not recorded (a database from before spymate said why)'}`);
  head.push(
    s.swapped.includes(rowKey(row))
      ? '   seen from its other side (s swaps back): srcIP is the side the monitor took as remote'
      : '   s: see the call from its other side (local and remote camera trade places)',
  );
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

export function lineCount(p: DetailsParts): number {
  return p.head.length + p.windows + p.tail.length;
}

/** Lines [from, to) of the details text, fitted to `width`: only the windows in that range are formatted. */
export function detailsLines(s: UiState, width: number, from = 0, to = Infinity): string[] {
  return partLines(detailsParts(s), width, from, to);
}

export function partLines(p: DetailsParts, width: number, from: number, to: number): string[] {
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
