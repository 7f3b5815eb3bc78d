/**
 * The held-out synthetic scenario of the acceptance test, as a function: train on two
 * synthetic calls, score the causal final predictions on a third. Used by the tests and by
 * tune.ts (which chose the defaults).
 */
import { identityIndex, runSpan } from '../../src/model/evaluate';
import { evaluateOutcomes, type Evaluation } from '../../src/model/metrics';
import { trainModel, wholeSpans, type TrainOptions } from '../../src/model/train';
import type { DataSet, Sequence } from '../../src/model/types';
import { SYM_FEATURES, synthCall, type SynthCall } from './synth';

export function synthSequence(call: SynthCall, name: string): Sequence {
  return {
    source: name,
    flow: name,
    times: Float64Array.from(call.rows, (_, i) => i * 0.5),
    rows: call.rows.map((r) => Float64Array.from(r)),
    labels: Int8Array.from(call.labels),
  };
}

export function synthDataSet(seeds: number[]): DataSet {
  return {
    features: [...SYM_FEATURES],
    windowMs: null,
    sequences: seeds.map((s) => synthSequence(synthCall(s), `call${s}`)),
    inputs: seeds.map((s) => ({ file: `call${s}.csv`, sha256: '', sequences: 1, windows: 0, labelled: 0 })),
  };
}

/** Train on calls a, b; evaluate on call c. */
export function heldOut(a: number, b: number, c: number, o: TrainOptions): Evaluation {
  const model = trainModel(synthDataSet([a, b]), o, 'synthetic');
  const test = synthDataSet([c]);
  const runs = wholeSpans(test.sequences).map((s) => runSpan(model, s, identityIndex(SYM_FEATURES.length), 0.5));
  return evaluateOutcomes(runs);
}
