/**
 * Do absolute feature levels carry over between the training calls?
 *
 * Relative features (context.ts) work across codecs, caps and cameras, but they cannot tell which
 * state a call is in before it has shown both: the first minute of a held-out call is guessed.
 * Absolute levels fix that when calls share one setup (the Spy Your Mate calls: one laptop, one app)
 * and mislead when they do not. The training data can say which: for every ordered pair of training
 * calls (i, j), take the features that separate i's states well on their own (balanced accuracy
 * ≥ SEPARATES with a threshold midway between i's class medians) and score those same thresholds
 * on j. The transfer is the worst pair's mean score; levels are used when it reaches
 * LEVELS_TRANSFER. Measured on synthetic held-out triples (docs/results.md): with one setup per call
 * it mostly keeps relative features (91.6 % → 91.7 %); with a shared setup it adds levels
 * (92.2 % → 95.6 %).
 */
import type { Span } from './types';

/** Transfer from which absolute levels are used. */
export const LEVELS_TRANSFER = 0.8;
/** A feature "separates" a call when its midpoint threshold scores this on the call itself. */
const SEPARATES = 0.8;

interface CallLevels {
  /** per feature: the windows' values of each class, sorted */
  person: Float64Array[];
  background: Float64Array[];
}

function median(sorted: Float64Array): number {
  return sorted[sorted.length >> 1];
}

/** Fraction of `sorted` above (or, with up = false, at or below) t. */
function shareAbove(sorted: Float64Array, t: number, up: boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  const above = (sorted.length - lo) / sorted.length;
  return up ? above : 1 - above;
}

/**
 * Values in the model's own scale, v = asinh(x / scale) with the training scales (context.ts):
 * midpoints are then log-like for wide-ranging features; one scale per input column.
 */
function levelsOf(spans: readonly Span[], scales: readonly number[]): CallLevels[] {
  const columns = scales.length;
  const bySeq = new Map<Span['seq'], { p: number[][]; b: number[][] }>();
  for (const s of spans) {
    let g = bySeq.get(s.seq);
    if (!g) {
      g = { p: Array.from({ length: columns }, () => []), b: Array.from({ length: columns }, () => []) };
      bySeq.set(s.seq, g);
    }
    for (let i = s.from; i < s.to; i++) {
      const l = s.seq.labels[i];
      if (l < 0) continue;
      const row = s.seq.rows[i];
      for (let f = 0; f < columns; f++)
        if (Number.isFinite(row[f])) (l ? g.p : g.b)[f].push(Math.asinh(row[f] / scales[f]));
    }
  }
  const calls: CallLevels[] = [];
  for (const g of bySeq.values()) {
    const sorted = (v: number[]): Float64Array => Float64Array.from(v).sort();
    const call = { person: g.p.map(sorted), background: g.b.map(sorted) };
    if (call.person.some((v) => v.length > 0) && call.background.some((v) => v.length > 0)) calls.push(call);
  }
  return calls;
}

/** Mean score on `to` of the thresholds of the features that separate `from`; null if none does. */
function pairTransfer(from: CallLevels, to: CallLevels): number | null {
  let sum = 0;
  let n = 0;
  for (let f = 0; f < from.person.length; f++) {
    const [p, b, p2, b2] = [from.person[f], from.background[f], to.person[f], to.background[f]];
    if (!p.length || !b.length || !p2.length || !b2.length) continue;
    const mp = median(p);
    const mb = median(b);
    if (mp === mb) continue;
    const t = (mp + mb) / 2;
    const up = mp > mb;
    if ((shareAbove(p, t, up) + shareAbove(b, t, !up)) / 2 < SEPARATES) continue;
    sum += (shareAbove(p2, t, up) + shareAbove(b2, t, !up)) / 2;
    n++;
  }
  return n ? sum / n : null;
}

/**
 * The transfer of absolute levels between the calls of `spans` (0.5 = none, 1 = complete), or null
 * with fewer than two calls that show both states. `scales`: the training scales of the input columns.
 */
export function levelTransfer(spans: readonly Span[], scales: readonly number[]): number | null {
  const calls = levelsOf(spans, scales);
  if (calls.length < 2) return null;
  let worst = 1;
  for (let i = 0; i < calls.length; i++) {
    for (let j = 0; j < calls.length; j++) {
      if (i === j) continue;
      // no feature separating call i: nothing to carry over from it
      worst = Math.min(worst, pairTransfer(calls[i], calls[j]) ?? 0.5);
    }
  }
  return worst;
}
