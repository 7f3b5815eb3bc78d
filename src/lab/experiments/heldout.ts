/**
 * The held-out synthetic scenario of the acceptance test, as a function: train on two
 * synthetic calls, score the causal final predictions on a third. Used by the tests and by
 * tune.ts (which chose the defaults).
 */
import { identityIndex, runSpan } from '../../model/evaluate';
import { evaluateOutcomes, type Evaluation } from '../../model/metrics';
import { trainModel, wholeSpans, type TrainOptions } from '../../model/train';
import type { DataSet, Sequence } from '../../model/types';
import { SYM_FEATURES, synthCall, synthSetup, type StreamSetup, type SynthCall } from './synth';

export function synthSequence(call: SynthCall, name: string): Sequence {
  return {
    source: name,
    flow: name,
    times: Float64Array.from(call.rows, (_, i) => i * 0.5),
    rows: call.rows.map((r) => Float64Array.from(r)),
    labels: Int8Array.from(call.labels),
  };
}

export function synthDataSet(seeds: number[], setup?: StreamSetup): DataSet {
  return {
    features: [...SYM_FEATURES],
    windowMs: null,
    sequences: seeds.map((s) => synthSequence(synthCall(s, undefined, setup), `call${s}`)),
    inputs: seeds.map((s) => ({ file: `call${s}.csv`, sha256: '', sequences: 1, windows: 0, labelled: 0 })),
  };
}

/**
 * Train on calls a, b; evaluate on call c. `sharedSetup`: the three calls come from one sender
 * setup (as the Spy Your Mate calls: one laptop, one app), else each has its own.
 */
export function heldOut(a: number, b: number, c: number, o: TrainOptions, sharedSetup = false): Evaluation {
  const setup = sharedSetup ? synthSetup(c) : undefined;
  const model = trainModel(synthDataSet([a, b], setup), o, 'synthetic');
  const test = synthDataSet([c], setup);
  const runs = wholeSpans(test.sequences).map((s) => runSpan(model, s, identityIndex(SYM_FEATURES.length), 0.5));
  return evaluateOutcomes(runs);
}
