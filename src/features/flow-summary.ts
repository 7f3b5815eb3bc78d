import type { ShapeCounts } from '../rules/inspect';

/**
 * Per-flow statistics of a flow's first seconds, for the call classifier (the netAI way: a tree
 * on flow statistics, not ports). Accumulated packet by packet in SUMMARY_SIZE doubles at offset `o`
 * of `s` (a flow's slot in the pipeline's slab), so the hot path allocates nothing; turned into
 * FLOW_FEATURE_NAMES by summarize().
 */

/** The classifier's inputs, in this order (docs/calls.md explains each). */
export const FLOW_FEATURE_NAMES = [
  'pps',
  'kbps',
  'out_share',
  'symmetry',
  'size_mean',
  'size_cv',
  'size_out_mean',
  'size_in_mean',
  'size_le80',
  'size_81_200',
  'size_201_500',
  'size_501_1000',
  'size_1001_1250',
  'size_gt1250',
  'iat_cv_min',
  'iat_cv_max',
  'max_gap',
  'active_share',
  'shape_rtp',
  'shape_setup',
  'shape_zoom',
  'shape_tagged',
  'shape_imo',
  'shape_line',
  'shape_viber',
  'shape_quic',
  'shape_tunnel',
  'same_head',
  'first_bytes',
] as const;

// accumulator layout: per direction (d = 0 out, 1 in) at d * DIR
const N = 0;
const SUM = 1;
const SQ = 2;
const LAST = 3;
const IAT_N = 4;
const IAT_SUM = 5;
const IAT_SQ = 6;
const DIR = 7;
const FIRST_TS = 2 * DIR;
const LAST_TS = FIRST_TS + 1;
const MAX_GAP = FIRST_TS + 2;
const SLOT = FIRST_TS + 3;
const SLOTS = FIRST_TS + 4;
const BINS = FIRST_TS + 5;
const SIZE_BINS = 6;
/** doubles a flow's summary takes */
export const SUMMARY_SIZE = BINS + SIZE_BINS;
/** activity is counted in slots of this length (s): a call fills every one, a burst a few */
const SLOT_S = 0.25;

export function resetFlowSummary(s: Float64Array, o: number): void {
  s.fill(0, o, o + SUMMARY_SIZE);
  s[o + LAST] = s[o + DIR + LAST] = NaN;
  s[o + FIRST_TS] = s[o + LAST_TS] = NaN;
  s[o + SLOT] = -1;
}

/** One packet: `size` is its transport payload length, `out` its direction. */
export function addToSummary(s: Float64Array, o: number, ts: number, size: number, out: boolean): void {
  const d = o + (out ? 0 : DIR);
  s[d + N]++;
  s[d + SUM] += size;
  s[d + SQ] += size * size;
  const last = s[d + LAST];
  if (last === last) {
    const iat = ts - last;
    s[d + IAT_N]++;
    s[d + IAT_SUM] += iat;
    s[d + IAT_SQ] += iat * iat;
  }
  s[d + LAST] = ts;
  const prev = s[o + LAST_TS];
  if (prev !== prev) s[o + FIRST_TS] = ts;
  else if (ts - prev > s[o + MAX_GAP]) s[o + MAX_GAP] = ts - prev;
  s[o + LAST_TS] = ts;
  const slot = Math.floor((ts - s[o + FIRST_TS]) / SLOT_S);
  if (slot !== s[o + SLOT]) {
    s[o + SLOT] = slot;
    s[o + SLOTS]++;
  }
  // real-time media keeps its datagrams under ~1250 bytes (libwebrtc, Zoom, Teams); bulk data
  // and the tunnels that carry it fill the path MTU
  s[o + BINS + (size <= 80 ? 0 : size <= 200 ? 1 : size <= 500 ? 2 : size <= 1000 ? 3 : size <= 1250 ? 4 : 5)]++;
}

/** Packets and seconds the summary covers. */
export function summaryPackets(s: Float64Array, o: number): number {
  return s[o + N] + s[o + DIR + N];
}

export function summarySpan(s: Float64Array, o: number): number {
  const span = s[o + LAST_TS] - s[o + FIRST_TS];
  return span === span ? span : 0;
}

function cv(s: Float64Array, d: number): number {
  const n = s[d + IAT_N];
  if (n < 3) return NaN;
  const mean = s[d + IAT_SUM] / n;
  const sd = Math.sqrt(Math.max(0, s[d + IAT_SQ] / n - mean * mean));
  return mean > 0 ? sd / mean : NaN;
}

/** The FLOW_FEATURE_NAMES values of a flow, into `x`. */
export function summarize(s: Float64Array, o: number, shapes: ShapeCounts, x: Float64Array): Float64Array {
  const out = s[o + N];
  const inn = s[o + DIR + N];
  const n = out + inn;
  const span = Math.max(summarySpan(s, o), 1e-3);
  const bytes = s[o + SUM] + s[o + DIR + SUM];
  const mean = n > 0 ? bytes / n : 0;
  const sd = n > 0 ? Math.sqrt(Math.max(0, (s[o + SQ] + s[o + DIR + SQ]) / n - mean * mean)) : 0;
  const cvOut = cv(s, o);
  const cvIn = cv(s, o + DIR);
  const k = Math.max(1, shapes.inspected);
  let i = 0;
  x[i++] = n / span;
  x[i++] = (bytes * 8) / span / 1000;
  x[i++] = n > 0 ? out / n : 0;
  x[i++] = Math.max(out, inn) > 0 ? Math.min(out, inn) / Math.max(out, inn) : 0;
  x[i++] = mean;
  x[i++] = mean > 0 ? sd / mean : 0;
  x[i++] = out > 0 ? s[o + SUM] / out : 0;
  x[i++] = inn > 0 ? s[o + DIR + SUM] / inn : 0;
  for (let b = 0; b < SIZE_BINS; b++) x[i++] = n > 0 ? s[o + BINS + b] / n : 0;
  // a direction with too few packets to time says nothing: the other one stands in
  x[i++] = cvOut === cvOut ? (cvIn === cvIn ? Math.min(cvOut, cvIn) : cvOut) : cvIn === cvIn ? cvIn : 10;
  x[i++] = cvOut === cvOut ? (cvIn === cvIn ? Math.max(cvOut, cvIn) : cvOut) : cvIn === cvIn ? cvIn : 10;
  x[i++] = s[o + MAX_GAP];
  x[i++] = Math.min(1, s[o + SLOTS] / (Math.floor(span / SLOT_S) + 1));
  x[i++] = (shapes.rtp + shapes.rtcp) / k;
  x[i++] = (shapes.stun + shapes.dtls) / k;
  x[i++] = shapes.zoom / k;
  x[i++] = shapes.tagged / k;
  x[i++] = shapes.imo / k;
  x[i++] = shapes.line / k;
  x[i++] = shapes.viber / k;
  x[i++] = shapes.quic / k;
  x[i++] = (shapes.wireguard + shapes.openvpn) / k;
  x[i++] = shapes.sameHead / k;
  x[i++] = shapes.firstBytes / k;
  return x;
}
