import type { DecodedPacket } from '../capture/types';
import { MEASURES } from './names';

/**
 * Incremental per-window statistics: one Float64Array per flow, a block of slots per direction,
 * updated in place for every packet (no per-packet arrays), turned into features when the window closes.
 */

/** Packets at least this large (IP bytes) are counted as large: full video packets. */
const LARGE_PACKET = 1000;
/** Packets at most this large are counted as small: audio, RTCP, STUN, ACKs. */
const SMALL_PACKET = 200;
/**
 * Packets of more than SMALL_PACKET bytes closer than this (s) belong to one burst: the packets of
 * one video frame leave together, and audio/RTCP packets in between neither split nor join it.
 * On the lab's WebRTC calls the bursts' sizes match the frames' sizes read from RTP timestamps.
 */
const BURST_GAP_S = 0.008;

export const DIR_IN = 0;
export const DIR_OUT = 1;

const N = 0;
const SUM = 1;
const SUMSQ = 2;
const MIN = 3;
const MAX = 4;
const LARGE = 5;
const SMALL = 6;
const LAST_TS = 7;
const GAP_SUM = 8;
const GAP_SUMSQ = 9;
const BURSTS = 10;
/** bytes of the burst in progress, and when its last packet came */
const BURST_BYTES = 11;
const BURST_LAST_TS = 12;
/** sum, sum of squares and largest of the finished bursts */
const BURST_SUM = 13;
const BURST_SUMSQ = 14;
const BURST_MAX = 15;
/** wire bytes: only the `all` block's slot is used, for the record's tshark-comparable byte count */
const WIRE = 16;
/** the last finished burst's bytes, and the sum of squared steps between consecutive bursts */
const BURST_PREV = 17;
const BURST_STEPSQ = 18;
const STRIDE = 19;

const FEATURES_PER_DIRECTION = MEASURES.length;

export function newWindowStats(): Float64Array {
  const s = new Float64Array(3 * STRIDE);
  resetWindowStats(s);
  return s;
}

export function resetWindowStats(s: Float64Array): void {
  s.fill(0);
  s[MIN] = Infinity;
  s[STRIDE + MIN] = Infinity;
  s[2 * STRIDE + MIN] = Infinity;
}

// The per-packet functions take the packet, not its time and size: a double passed to a function
// that V8 did not inline is boxed, one allocation per packet.

function addTo(s: Float64Array, o: number, p: DecodedPacket): void {
  const size = p.ipLen;
  s[o + N]++;
  s[o + SUM] += size;
  s[o + SUMSQ] += size * size;
  if (size < s[o + MIN]) s[o + MIN] = size;
  if (size > s[o + MAX]) s[o + MAX] = size;
  if (size >= LARGE_PACKET) s[o + LARGE]++;
  else if (size <= SMALL_PACKET) s[o + SMALL]++;
  addTiming(s, o, p);
}

/** Intervals and bursts depend on the order of packets, so `all` tracks them itself (after N is counted). */
function addTiming(s: Float64Array, o: number, p: DecodedPacket): void {
  const ts = p.ts;
  const size = p.ipLen;
  if (s[o + N] > 1) {
    const gap = ts - s[o + LAST_TS];
    s[o + GAP_SUM] += gap;
    s[o + GAP_SUMSQ] += gap * gap;
  }
  s[o + LAST_TS] = ts;
  if (size <= SMALL_PACKET) return;
  if (s[o + BURSTS] > 0 && ts - s[o + BURST_LAST_TS] <= BURST_GAP_S) {
    s[o + BURST_BYTES] += size;
  } else {
    if (s[o + BURSTS] > 0) endBurst(s, o);
    s[o + BURSTS]++;
    s[o + BURST_BYTES] = size;
  }
  s[o + BURST_LAST_TS] = ts;
}

/** Adds the burst in progress to the finished ones. */
function endBurst(s: Float64Array, o: number): void {
  const b = s[o + BURST_BYTES];
  // BURSTS counts this burst: from the second on there is a step from the one before
  if (s[o + BURSTS] > 1) s[o + BURST_STEPSQ] += (b - s[o + BURST_PREV]) * (b - s[o + BURST_PREV]);
  s[o + BURST_PREV] = b;
  s[o + BURST_SUM] += b;
  s[o + BURST_SUMSQ] += b * b;
  if (b > s[o + BURST_MAX]) s[o + BURST_MAX] = b;
}

/**
 * Von Neumann ratio of the window's burst sizes: mean squared step between consecutive bursts over
 * their variance. About 2 when sizes are independent (2n/(n−1) for n bursts); towards 4 when they
 * alternate big/small (a VP8/VP9 encoder at its bitrate cap filming a still, noisy room); towards 0
 * when they drift smoothly. Scale-free, so one call's level means the same in another. 0 below 3
 * bursts or with equal sizes.
 */
function alternation(stepSq: number, bursts: number, sd: number): number {
  return bursts >= 3 && sd > 0 ? stepSq / (bursts - 1) / (sd * sd) : 0;
}

/**
 * Adds one packet going in direction `dir` (DIR_IN or DIR_OUT): its IP size to the features, its
 * wire size to the record's bytes. The `all` block's counts and sums are in + out, made when the
 * window closes; per packet it only follows the timing.
 */
export function addPacket(s: Float64Array, dir: number, p: DecodedPacket): void {
  addTo(s, dir * STRIDE, p);
  const a = 2 * STRIDE;
  s[a + N]++;
  s[a + WIRE] += p.wireLen;
  addTiming(s, a, p);
}

export function windowPackets(s: Float64Array): number {
  return s[2 * STRIDE + N];
}

export function windowWireBytes(s: Float64Array): number {
  return s[2 * STRIDE + WIRE];
}

/** Features are rounded to what the capture can tell (µs, thousandths of a byte): shorter output, same values live and offline. */
function round3(x: number): number {
  return Math.round(x * 1e3) / 1e3;
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

function roundUs(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}

function std(sum: number, sumsq: number, n: number): number {
  if (n < 2) return 0;
  const mean = sum / n;
  const v = sumsq / n - mean * mean;
  return v > 0 ? Math.sqrt(v) : 0;
}

/**
 * Writes the features of a closed window into `out` (FEATURE_NAMES order). An empty direction has
 * zero counts and sizes; with fewer than two packets the mean interval is the window length
 * (no two packets came closer than that) and its spread 0.
 */
export function computeFeatures(s: Float64Array, windowS: number, out: Float64Array): Float64Array {
  const a = 2 * STRIDE;
  // the all block's order-free sums are those of in + out
  s[a + SUM] = s[SUM] + s[STRIDE + SUM];
  s[a + SUMSQ] = s[SUMSQ] + s[STRIDE + SUMSQ];
  s[a + MIN] = Math.min(s[MIN], s[STRIDE + MIN]);
  s[a + MAX] = Math.max(s[MAX], s[STRIDE + MAX]);
  s[a + LARGE] = s[LARGE] + s[STRIDE + LARGE];
  s[a + SMALL] = s[SMALL] + s[STRIDE + SMALL];
  for (let d = 0; d < 3; d++) {
    const o = d * STRIDE;
    const f = d * FEATURES_PER_DIRECTION;
    const n = s[o + N];
    const gaps = n - 1;
    out[f] = n;
    out[f + 1] = s[o + SUM];
    out[f + 2] = Math.round((s[o + SUM] * 8) / windowS);
    out[f + 3] = n > 0 ? round3(s[o + SUM] / n) : 0;
    out[f + 4] = round3(std(s[o + SUM], s[o + SUMSQ], n));
    out[f + 5] = n > 0 ? s[o + MIN] : 0;
    out[f + 6] = s[o + MAX];
    out[f + 7] = gaps > 0 ? roundUs(s[o + GAP_SUM] / gaps) : windowS;
    out[f + 8] = roundUs(std(s[o + GAP_SUM], s[o + GAP_SUMSQ], gaps));
    out[f + 9] = s[o + LARGE];
    out[f + 10] = s[o + SMALL];
    // the burst in progress ends with the window
    const bursts = s[o + BURSTS];
    const open = bursts > 0 ? s[o + BURST_BYTES] : 0;
    const bsum = s[o + BURST_SUM] + open;
    const mean = bursts > 0 ? bsum / bursts : 0;
    const bstd = std(bsum, s[o + BURST_SUMSQ] + open * open, bursts);
    out[f + 11] = bursts;
    out[f + 12] = round3(mean);
    out[f + 13] = round3(bstd);
    out[f + 14] = Math.max(s[o + BURST_MAX], open);
    out[f + 15] = mean > 0 ? round4(bstd / mean) : 0;
    const lastStep = bursts > 1 ? open - s[o + BURST_PREV] : 0;
    out[f + 16] = round4(alternation(s[o + BURST_STEPSQ] + lastStep * lastStep, bursts, bstd));
  }
  return out;
}
