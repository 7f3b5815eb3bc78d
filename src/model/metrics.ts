import type { Scores } from './types';

export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Per-window outcome of one evaluated stretch of a sequence (labels -1 = not scored). */
export interface Outcome {
  labels: Int8Array;
  raw: Uint8Array;
  final: Uint8Array;
  windowS: number;
}

function confusionOf(labels: Int8Array, pred: Uint8Array, into: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 }): Confusion {
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (l < 0) continue;
    if (pred[i]) {
      if (l) into.tp++;
      else into.fp++;
    } else if (l) into.fn++;
    else into.tn++;
  }
  return into;
}

const ratio = (a: number, b: number): number => (b > 0 ? a / b : 0);

/**
 * Seconds from each true change (label differs from the previous labelled window) to the first
 * window at or after it whose final prediction equals the new label, before the next change.
 * Changes the prediction never follows are `missed`.
 */
export function detectionDelays(o: Outcome): { delays: number[]; missed: number } {
  const delays: number[] = [];
  let missed = 0;
  let prev = -1;
  const changes: number[] = [];
  for (let i = 0; i < o.labels.length; i++) {
    const l = o.labels[i];
    if (l < 0) continue;
    if (prev >= 0 && l !== prev) changes.push(i);
    prev = l;
  }
  changes.forEach((c, k) => {
    const end = k + 1 < changes.length ? changes[k + 1] : o.labels.length;
    const want = o.labels[c];
    let j = c;
    while (j < end && o.final[j] !== want) j++;
    if (j < end) delays.push((j - c) * o.windowS);
    else missed++;
  });
  return { delays, missed };
}

export function median(xs: readonly number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export interface Evaluation extends Scores {
  confusion: Confusion;
  rawConfusion: Confusion;
  changes: number;
  missedChanges: number;
}

export function evaluateOutcomes(outcomes: readonly Outcome[]): Evaluation {
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const rc: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  const delays: number[] = [];
  let missed = 0;
  for (const o of outcomes) {
    confusionOf(o.labels, o.final, c);
    confusionOf(o.labels, o.raw, rc);
    const d = detectionDelays(o);
    delays.push(...d.delays);
    missed += d.missed;
  }
  const n = c.tp + c.fp + c.tn + c.fn;
  const precision = ratio(c.tp, c.tp + c.fp);
  const recall = ratio(c.tp, c.tp + c.fn);
  return {
    windows: n,
    accuracy: ratio(c.tp + c.tn, n),
    precision,
    recall,
    f1: ratio(2 * precision * recall, precision + recall),
    rawAccuracy: ratio(rc.tp + rc.tn, n),
    delayS: median(delays),
    confusion: c,
    rawConfusion: rc,
    changes: delays.length + missed,
    missedChanges: missed,
  };
}

/** The Scores part (what the model file keeps). */
export function scoresOf(e: Evaluation): Scores {
  const r = (x: number): number => Math.round(x * 1e4) / 1e4;
  return {
    windows: e.windows,
    accuracy: r(e.accuracy),
    precision: r(e.precision),
    recall: r(e.recall),
    f1: r(e.f1),
    rawAccuracy: r(e.rawAccuracy),
    delayS: e.delayS,
  };
}
