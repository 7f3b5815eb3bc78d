import { ModelPredictor, Smoother } from './predictor';
import type { Outcome } from './metrics';
import type { Span } from './types';
import type { ModelFile, Sequence } from './types';

/** Predictions for windows [from, to) of one sequence. */
export interface SequenceRun extends Outcome {
  seq: Sequence;
  from: number;
  times: Float64Array;
  rawP: Float64Array;
  prob: Float64Array;
}

/**
 * Runs the model causally over a sequence. The context sees every window before `to` (it uses
 * no labels); the final decision's smoothing starts fresh at `from`, so a validation block never
 * inherits state from predictions on training windows.
 */
export function runSpan(model: ModelFile, span: Span, index: Int32Array, windowS: number): SequenceRun {
  const { seq, from, to } = span;
  const p = new ModelPredictor(model, index);
  const n = to - from;
  const rawP = new Float64Array(n);
  const prob = new Float64Array(n);
  const raw = new Uint8Array(n);
  const final = new Uint8Array(n);
  const sm = new Smoother(model.smoothing);
  for (let i = 0; i < to; i++) {
    const r = p.push(seq.rows[i]).rawProbability;
    if (i < from) continue;
    const k = i - from;
    rawP[k] = r;
    raw[k] = r >= 0.5 ? 1 : 0;
    prob[k] = sm.push(r);
    final[k] = sm.presence;
  }
  return {
    seq,
    from,
    times: seq.times.slice(from, to),
    labels: seq.labels.slice(from, to),
    rawP,
    prob,
    raw,
    final,
    windowS,
  };
}

export function identityIndex(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}
