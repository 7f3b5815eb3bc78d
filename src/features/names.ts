/**
 * The per-window features, in the order of WindowRecord.features. Each measure exists for
 * three directions: `in` (remote → local), `out` (local → remote) and `all` (both).
 * Sizes are IP packet lengths (link-independent); times are seconds. docs/extract.md documents each one.
 *
 * The Spy Your Mate report's twelve features are `{in,out,all}_avg_interval`,
 * `{in,out,all}_avg_size`, `{in,out,all}_packets` and `{in,out,all}_bytes` (its "bit rate",
 * bytes per half-second window); `*_bitrate` is the same quantity in bit/s.
 */
const DIRECTIONS = ['in', 'out', 'all'] as const;

export const MEASURES = [
  'packets',
  'bytes',
  'bitrate',
  'avg_size',
  'std_size',
  'min_size',
  'max_size',
  'avg_interval',
  'std_interval',
  'large_packets',
  'small_packets',
  'bursts',
  'avg_burst_bytes',
  'std_burst_bytes',
  'max_burst_bytes',
  'burst_cv',
  'burst_alternation',
] as const;

export const FEATURE_NAMES: readonly string[] = DIRECTIONS.flatMap((d) => MEASURES.map((m) => `${d}_${m}`));

/** The Spy Your Mate report's features, by our names. */
export const SPY_YOUR_MATE_FEATURES: readonly string[] = DIRECTIONS.flatMap((d) =>
  ['avg_interval', 'avg_size', 'packets', 'bytes'].map((m) => `${d}_${m}`),
);

/** The same measure seen from the other side: `in_x` ↔ `out_x`; `all_x` and other names stay. */
export function otherSide(name: string): string {
  if (name.startsWith('in_')) return `out_${name.slice(3)}`;
  if (name.startsWith('out_')) return `in_${name.slice(4)}`;
  return name;
}

/**
 * FEATURE_NAMES as the remote side would name the same values: a model that asks for `out_bytes`
 * by name then reads what the remote side sent (`in_bytes` here), and so judges the remote camera.
 */
export const REMOTE_FEATURE_NAMES: readonly string[] = FEATURE_NAMES.map(otherSide);
