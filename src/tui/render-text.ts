import { humanBitrate, humanDuration } from './columns';
import type { UiState } from './ui-state';
import { rowKey, type FlowRow } from '../store/view-types';

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
  return barChart(values, width, 1, max, unicode)[0];
}

/**
 * The last `width` values as bars `rows` lines tall (top line first), 8 steps a line from 0 to
 * `max`: a value of 0 still shows the lowest step, a missing one (null) is blank.
 */
export function barChart(
  values: ReadonlyArray<number | null>,
  width: number,
  rows: number,
  max: number,
  unicode: boolean,
): string[] {
  const levels = unicode ? BLOCKS : ASCII_LEVELS;
  const tail = values.length > width ? values.slice(values.length - width) : values;
  const out = new Array<string>(rows).fill('');
  for (const v of tail) {
    const missing = v === null || !Number.isFinite(v);
    const f = missing || max <= 0 ? 0 : Math.max(0, Math.min(1, v / max));
    // eighths of a line, at least the lowest step of the bottom line
    const eighths = Math.max(1, Math.round(f * (rows * 8 - 1)) + 1);
    for (let r = 0; r < rows; r++) {
      const fill = missing ? 0 : Math.max(0, Math.min(8, eighths - 8 * (rows - 1 - r)));
      out[r] += fill === 0 ? ' ' : levels[fill - 1];
    }
  }
  return out;
}

/** The selected call's charts: P(person) of one camera and the bitrate, `rows` lines each, `width` wide. */
export interface Charts {
  presence: string[];
  bitrate: string[];
  /** what they show: time span, one window a column, the scales */
  caption: string;
}

const LABEL = 10;
const VALUE = 9;

/**
 * The flow's P(person) and bitrate over its last windows, one window per column, with their labels
 * and latest values: under the table, and in the details view when the terminal is too small for
 * its line charts. The bitrate is scaled to the windows shown.
 */
export function charts(s: UiState, row: FlowRow, width: number, rows: number): Charts {
  const room = Math.max(1, width - LABEL - VALUE - 1);
  const wins = s.windowsFor === rowKey(row) ? s.windows.slice(-room) : [];
  const rates = wins.map((x) => x.bitrate);
  const maxRate = rates.reduce((a, b) => Math.max(a, b), 0);
  const block = (name: readonly string[], bars: string[], latest: string, color: 'green' | 'yellow'): string[] =>
    bars.map((bar, r) => {
      const text = s.color ? `{${color}-fg}${bar}{/${color}-fg}` : bar;
      const pad = ' '.repeat(room - bar.length + 1);
      return `${(name[r] ?? '').padEnd(LABEL)}${text}${pad}${(r === 0 ? latest : '').padStart(VALUE)}`;
    });
  const presence = block(
    ['P(person)', 'local cam'],
    barChart(
      wins.map((x) => x.probability),
      room,
      rows,
      1,
      s.unicode,
    ),
    row.probability === null ? '-' : row.probability.toFixed(2),
    'green',
  );
  const bitrate = block(
    ['bitrate', 'both ways'],
    barChart(rates, room, rows, maxRate, s.unicode),
    humanBitrate(row.bitrate),
    'yellow',
  );
  const windowS = (s.snapshot.meta.windowMs ?? 500) / 1000;
  const caption =
    wins.length === 0
      ? 'no windows yet'
      : `last ${humanDuration(wins.length * windowS)}, ${windowS} s a column; P 0-1, bitrate 0-${humanBitrate(maxRate)}`;
  return { presence, bitrate, caption };
}
