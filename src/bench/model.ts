import { FEATURE_NAMES } from '../features/names';
import { ModelPredictor, featureIndex } from '../model/predictor';
import { DEFAULT_TRAIN_OPTIONS, trainModel } from '../model/train';
import type { DataSet, Sequence } from '../model/types';
import { synthSequence } from '../lab/experiments/heldout';
import { synthCall } from '../lab/experiments/synth';
import type { BenchSection } from './bench';

/**
 * Model speed: training the default random forest on 50 000 windows, and per-window prediction
 * (context + forest + smoothing) through the live API, with all FEATURE_NAMES columns.
 */
function widen(seq: Sequence, width: number): Sequence {
  // FEATURE_NAMES-wide rows: the 12 synthetic columns, repeated with per-column distortion
  return {
    ...seq,
    rows: seq.rows.map((r) =>
      Float64Array.from({ length: width }, (_, j) => r[j % r.length] * (1 + 0.1 * (j / r.length)) + j),
    ),
  };
}

function windows(n: number, width: number): DataSet {
  const sequences: Sequence[] = [];
  let total = 0;
  for (let s = 1; total < n; s++) {
    const seq = widen(synthSequence(synthCall(s, 10), `call${s}`), width);
    sequences.push(seq);
    total += seq.rows.length;
  }
  return { features: [...FEATURE_NAMES].slice(0, width), windowMs: 500, sequences, inputs: [] };
}

export const benchSection: BenchSection = {
  name: 'model',
  run(ctx) {
    for (const width of [12, FEATURE_NAMES.length]) {
      const data = windows(50_000, width);
      const n = data.sequences.reduce((a, s) => a + s.rows.length, 0);
      const t0 = process.hrtime.bigint();
      const model = trainModel(data, DEFAULT_TRAIN_OPTIONS, 'bench');
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      ctx.report(
        `train rf (${DEFAULT_TRAIN_OPTIONS.trees} trees), ${width} features`,
        s,
        's',
        `${n} windows; target ≤ 60 s`,
      );
      const rows = data.sequences[0].rows;
      const p = new ModelPredictor(model, featureIndex(model.features, data.features, 'bench'));
      const m = 200_000;
      const t1 = process.hrtime.bigint();
      for (let i = 0; i < m; i++) p.push(rows[i % rows.length]);
      const rate = m / (Number(process.hrtime.bigint() - t1) / 1e9);
      ctx.report(`predict (rf), ${width} features`, rate, 'windows/s', 'target ≥ 50 000');
    }
  },
};
