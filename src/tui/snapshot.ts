import { EMPTY_META } from '../store/view-types';
import type { Meta } from './types';

export { emptySnapshot } from '../store/view-types';

/** Pure helpers for what the reader hands the UI (kept apart from the SQLite code). */

const NUMERIC_META: Array<[keyof Meta, string]> = [
  ['monitorStart', 'monitor_start'],
  ['clock', 'clock'],
  ['windowMs', 'window_ms'],
  ['timeoutS', 'timeout_s'],
  ['keepS', 'keep_s'],
  ['packets', 'packets'],
  ['drops', 'drops'],
  ['pps', 'pps'],
  ['flows', 'flows'],
  ['calls', 'calls'],
  ['windows', 'windows'],
  ['recordsPerS', 'records_per_s'],
  ['replayPosition', 'replay_position'],
];

/** meta key/value rows → Meta; values that are not numbers where numbers are due read as absent. */
export function decodeMeta(rows: ReadonlyArray<{ key: string; value: string | null }>): Meta {
  const kv = new Map(rows.map((r) => [r.key, r.value]));
  const meta: Meta = { ...EMPTY_META, source: kv.get('source') ?? null, model: kv.get('model') ?? null };
  for (const [field, key] of NUMERIC_META) {
    const text = kv.get(key);
    const n = text === undefined || text === null || text === '' ? NaN : Number(text);
    (meta as unknown as Record<string, number | null>)[field] = Number.isFinite(n) ? n : null;
  }
  return meta;
}
