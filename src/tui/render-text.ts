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
