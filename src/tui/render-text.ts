import { humanBitrate } from './columns';
import type { UiState } from './ui-state';
import { rowKey, type FlowRow } from './types';

/** Text helpers for blessed tag strings and one-line charts. */

/** Database text (app names, IDs) shown literally, not read as blessed tags. */
export function escapeTags(text: string): string {
  return text.replace(/[{}]/g, (c) => (c === '{' ? '{open}' : '{close}'));
}

const BLOCKS = '▁▂▃▄▅▆▇█';
const ASCII_LEVELS = '_.-~=+*#';

/**
 * The last `width` values as a one-line chart, 8 levels from 0 to `max`; missing values (null)
 * are blanks. ASCII levels when the terminal cannot show block characters.
 */
export function sparkline(values: ReadonlyArray<number | null>, width: number, max: number, unicode: boolean): string {
  const levels = unicode ? BLOCKS : ASCII_LEVELS;
  const tail = values.length > width ? values.slice(values.length - width) : values;
  let out = '';
  for (const v of tail) {
    if (v === null || !Number.isFinite(v)) out += ' ';
    else {
      const f = max > 0 ? Math.max(0, Math.min(1, v / max)) : 0;
      out += levels[Math.round(f * (levels.length - 1))];
    }
  }
  return out;
}

/**
 * The flow's P(person) and bitrate over its last windows, one window per cell, `width` cells
 * wide with their labels and latest values: under the table, and in the details view when the
 * terminal is too small for charts.
 */
export function sparkRows(s: UiState, row: FlowRow, width: number): [string, string] {
  const label = 10;
  const value = 9;
  const room = Math.max(1, width - label - value - 1);
  // the bitrate is scaled to the windows shown (the details view loads many more than fit)
  const wins = s.windowsFor === rowKey(row) ? s.windows.slice(-room) : [];
  const probs = wins.map((x) => x.probability);
  const rates = wins.map((x) => x.bitrate);
  const maxRate = rates.reduce((a, b) => Math.max(a, b), 0);
  const lastProb = row.probability === null ? '-' : row.probability.toFixed(2);
  const pSpark = sparkline(probs, room, 1, s.unicode);
  const rSpark = sparkline(rates, room, maxRate, s.unicode);
  const pText = s.color ? `{green-fg}${pSpark}{/green-fg}` : pSpark;
  const rText = s.color ? `{yellow-fg}${rSpark}{/yellow-fg}` : rSpark;
  return [
    `${'P(person)'.padEnd(label)}${pText}${' '.repeat(room - pSpark.length + 1)}${lastProb.padStart(value)}`,
    `${'bitrate'.padEnd(label)}${rText}${' '.repeat(room - rSpark.length + 1)}${humanBitrate(row.bitrate).padStart(value)}`,
  ];
}
