import { compositeValue } from './composite';
import type { Composite, ContextParams } from './types';

/**
 * Causal per-sequence normalisation. Absolute levels do not transfer between calls (codec,
 * bitrate cap, camera), so each input feature is described relative to the call's own past:
 * v = asinh(x / scale) (a log scale), s = mean of v over the last N windows, and
 *   above   s − low     (low/high: running quantiles of s over all past windows of the sequence)
 *   place   (s − low) / (high − low), clipped to [−1, 2]
 *   now     (v − low) / (high − low): the same for this window alone (reacts at once)
 *   spread  high − low  (small while the call has shown only one state)
 *   jitter  std of v over the last N windows
 *   change  s − (mean of v over the N windows before)
 * plus one per-sequence `warmup` feature (how much history the levels rest on), and with
 * `absolute` (train.ts, transfer.ts) each feature's `level` = s — without it, only the `levels`
 * columns' (shapeLevelColumns).
 */
const PER_FEATURE = ['above', 'place', 'now', 'spread', 'jitter', 'change'] as const;

export const DEFAULT_CONTEXT = { windows: 4, quantileLow: 0.1, quantileHigh: 0.9, halfLifeWindows: 1200 };

export function derivedNames(features: readonly string[], absolute = false, levels: readonly number[] = []): string[] {
  const withLevel = [...PER_FEATURE, 'level'];
  return [
    ...features.flatMap((f, i) => (absolute || levels.includes(i) ? withLevel : PER_FEATURE).map((d) => `${f}:${d}`)),
    'warmup',
  ];
}

/**
 * Columns whose level carries over between calls because it has no unit: the burst (≈ frame)
 * size CV and alternation of each direction. Bytes, packets and sizes scale with the codec and cap
 * (docs/results.md: their levels do not transfer); these do not, and before a call has shown both
 * states their level is the only hint of which one it is in.
 */
export function shapeLevelColumns(columns: readonly string[]): number[] {
  return columns.flatMap((c, i) => (/_burst_(cv|alternation)$/.test(c) ? [i] : []));
}

/** Quantile bins of v-space (asinh scale): width 0.05 over [−10, 20]. */
const BIN_LO = -10;
const BIN_W = 0.05;
const BINS = 600;
const WARMUP_WINDOWS = 120;
/** below this high−low spread (asinh units, ~10 %) the call has not shown two levels yet */
const MIN_SPREAD = 0.1;

/**
 * Running quantile over a fixed histogram: the pointer moves a few bins per insertion, so
 * push is O(1) amortised and allocation-free; halving all counts gives the half-life.
 */
class RunningQuantile {
  private k = 0;
  private below = 0;
  constructor(
    private readonly counts: Float64Array,
    private readonly q: number,
  ) {}

  /** call after counts[b] += 1 and total += 1 */
  added(b: number, total: number): void {
    if (b < this.k) this.below += 1;
    this.settle(total);
  }

  halved(): void {
    this.below *= 0.5;
  }

  private settle(total: number): void {
    const target = this.q * total;
    const c = this.counts;
    while (this.k > 0 && this.below >= target) {
      this.k--;
      this.below -= c[this.k];
    }
    while (this.k < BINS - 1 && this.below + c[this.k] < target) {
      this.below += c[this.k];
      this.k++;
    }
  }

  value(): number {
    return BIN_LO + (this.k + 0.5) * BIN_W;
  }
}

/** Context state of one sequence for all features; `push` fills `out` (length derivedNames().length). */
export class ContextState {
  private readonly nf: number;
  private readonly n: number;
  /** last 2N values of v per feature, ring */
  private readonly ring: Float64Array;
  private readonly counts: Float64Array[];
  private readonly lows: RunningQuantile[];
  private readonly highs: RunningQuantile[];
  private readonly total: Float64Array;
  /** per feature: sum and sum of squares of the recent N values of v, sum of the N before */
  private readonly sums: Float64Array;
  private pushed = 0;
  private readonly composites: Composite[];
  /** input columns; the composites follow them */
  private readonly inputs: number;
  /** per column: 1 if its level s is an output */
  private readonly level: Uint8Array;

  constructor(private readonly p: ContextParams) {
    this.nf = p.scales.length;
    this.level = new Uint8Array(this.nf).fill(p.absolute ? 1 : 0);
    for (const i of p.levels ?? []) this.level[i] = 1;
    this.composites = p.composites ?? [];
    this.inputs = this.nf - this.composites.length;
    this.n = p.windows;
    this.ring = new Float64Array(this.nf * 2 * this.n);
    this.counts = [];
    this.lows = [];
    this.highs = [];
    this.total = new Float64Array(1);
    this.sums = new Float64Array(3 * this.nf);
    for (let f = 0; f < this.nf; f++) {
      const c = new Float64Array(BINS);
      this.counts.push(c);
      this.lows.push(new RunningQuantile(c, p.quantileLow));
      this.highs.push(new RunningQuantile(c, p.quantileHigh));
    }
  }

  push(x: Float64Array | readonly number[], out: Float64Array): void {
    const n = this.n;
    const span = 2 * n;
    const slot = this.pushed % span;
    this.pushed++;
    const have = Math.min(this.pushed, n);
    const havePrev = Math.min(Math.max(this.pushed - n, 0), n);
    this.total[0] += 1;
    const total = this.total[0];
    const halve = this.p.halfLifeWindows > 0 && this.pushed % this.p.halfLifeWindows === 0;
    let o = 0;
    for (let f = 0; f < this.nf; f++) {
      const raw = f < this.inputs ? x[f] : compositeValue(this.composites[f - this.inputs], x);
      // a missing or infinite value would poison the running sums: it counts as 0
      const v = Number.isFinite(raw) ? Math.asinh(raw / this.p.scales[f]) : 0;
      const base = f * span;
      // running sums over the recent N and the N before them: O(1) per window
      const leavingRecent = this.pushed > n ? this.ring[base + ((slot + span - n) % span)] : 0;
      const leavingPrev = this.pushed > span ? this.ring[base + slot] : 0;
      this.ring[base + slot] = v;
      const sum = (this.sums[3 * f] += v - leavingRecent);
      const sq = (this.sums[3 * f + 1] += v * v - leavingRecent * leavingRecent);
      const prev = (this.sums[3 * f + 2] += leavingRecent - leavingPrev);
      const s = sum / have;
      const variance = sq / have - s * s;
      let b = Math.floor((s - BIN_LO) / BIN_W);
      if (b < 0) b = 0;
      else if (b >= BINS) b = BINS - 1;
      const counts = this.counts[f];
      counts[b] += 1;
      this.lows[f].added(b, total);
      this.highs[f].added(b, total);
      const lo = this.lows[f].value();
      const hi = this.highs[f].value();
      const spread = hi - lo;
      let place = (s - lo) / (spread > MIN_SPREAD ? spread : MIN_SPREAD);
      if (place < -1) place = -1;
      else if (place > 2) place = 2;
      out[o++] = s - lo;
      out[o++] = place;
      let now = (v - lo) / (spread > MIN_SPREAD ? spread : MIN_SPREAD);
      if (now < -1) now = -1;
      else if (now > 2) now = 2;
      out[o++] = now;
      out[o++] = spread;
      out[o++] = variance > 0 ? Math.sqrt(variance) : 0;
      out[o++] = havePrev > 0 ? s - prev / havePrev : 0;
      if (this.level[f]) out[o++] = s;
      if (halve) {
        for (let i = 0; i < BINS; i++) counts[i] *= 0.5;
        this.lows[f].halved();
        this.highs[f].halved();
      }
    }
    if (halve) this.total[0] *= 0.5;
    out[o] = Math.min(this.pushed, WARMUP_WINDOWS) / WARMUP_WINDOWS;
  }
}

/**
 * Per-column scale for asinh: a tenth of the median non-zero magnitude in the training data
 * (`columns` input features, then the composites).
 */
export function fitScales(
  columns: number,
  rows: Iterable<Float64Array>,
  composites: readonly Composite[] = [],
): number[] {
  const vals: number[][] = Array.from({ length: columns + composites.length }, () => []);
  for (const r of rows) {
    for (let f = 0; f < vals.length; f++) {
      const a = Math.abs(f < columns ? r[f] : compositeValue(composites[f - columns], r));
      if (a > 0 && Number.isFinite(a)) vals[f].push(a);
    }
  }
  return vals.map((v) => {
    if (v.length === 0) return 1;
    v.sort((a, b) => a - b);
    return v[v.length >> 1] / 10;
  });
}
