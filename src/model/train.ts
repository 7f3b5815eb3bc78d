import { columnNames, compositesFor } from './composite';
import { ContextState, DEFAULT_CONTEXT, derivedNames, fitScales, shapeLevelColumns } from './context';
import { fitForest } from './forest';
import { fitLogReg } from './logreg';
import { LEVELS_TRANSFER, levelTransfer } from './transfer';
import { CLASSES, MODEL_FORMAT, MODEL_VERSION } from './types';
import type { Algorithm, Composite, ContextParams, DataSet, ModelFile, Sequence, Span } from './types';
import { UserError } from '../util/errors';
import { spymateVersion } from '../rules/paths';

export interface TrainOptions {
  algo: Algorithm;
  /** logreg */
  l2: number;
  /** rf / cart */
  trees: number;
  maxDepth: number;
  minLeaf: number;
  seed: number;
  /** temporal context: windows in the rolling statistics */
  context: number;
  /** probability EWMA half-life, windows */
  smooth: number;
  hysteresis: number;
  hold: number;
  /** add absolute levels to the relative features; 'auto': when they carry over between the training calls (transfer.ts) */
  absolute: boolean | 'auto';
  /** add each direction's frame regularity (src/model/composite.ts) when the inputs have its parts */
  frameRegularity: boolean;
  /** give the levels of the dimensionless shape measures (context.ts shapeLevelColumns) */
  shapeLevels: boolean;
}

/**
 * Defaults chosen on the synthetic held-out benchmark (docs/results.md): see src/lab/experiments/synth.ts;
 * `frameRegularity` and `shapeLevels` on the lab recordings (src/lab/experiments/loo.ts) — they never apply to
 * the 12-feature form.
 */
export const DEFAULT_TRAIN_OPTIONS: TrainOptions = {
  algo: 'rf',
  l2: 1,
  trees: 60,
  maxDepth: 8,
  minLeaf: 100,
  seed: 1,
  context: 4,
  smooth: 0,
  hysteresis: 0,
  hold: 1,
  absolute: 'auto',
  frameRegularity: true,
  shapeLevels: true,
};

export function wholeSpans(seqs: readonly Sequence[]): Span[] {
  return seqs.map((seq) => ({ seq, from: 0, to: seq.rows.length }));
}

function contextParams(
  o: TrainOptions,
  absolute: boolean,
  scales: number[],
  composites: Composite[],
  levels: number[],
): ContextParams {
  return { ...DEFAULT_CONTEXT, windows: o.context, scales, absolute, composites, levels };
}

/** Derived (unstandardised) features of every window of a sequence, computed causally. */
function deriveSequence(seq: Sequence, ctx: ContextParams): Float64Array[] {
  const state = new ContextState(ctx);
  const width = derivedNames(new Array<string>(ctx.scales.length).fill(''), ctx.absolute, ctx.levels).length;
  return seq.rows.map((r) => {
    const out = new Float64Array(width);
    state.push(r, out);
    return out;
  });
}

interface Fitted {
  context: ContextParams;
  /** levelTransfer() of the training calls when `absolute` was 'auto' */
  levelTransfer: number | null;
  mean: number[];
  std: number[];
  classifier: ModelFile['classifier'];
  person: number;
  background: number;
}

/** Fits context scales, standardisation and the classifier on the labelled windows of `spans`. */
export function fitSpans(
  spans: readonly Span[],
  features: readonly string[],
  o: TrainOptions,
  onStep?: (done: number, total: number) => void,
): Fitted {
  const labelledRows = function* (): Generator<Float64Array> {
    for (const s of spans) for (let i = s.from; i < s.to; i++) if (s.seq.labels[i] >= 0) yield s.seq.rows[i];
  };
  const composites = o.frameRegularity ? compositesFor(features) : [];
  const scales = fitScales(features.length, labelledRows(), composites);
  // decided on the training spans only: in cross-validation, per fold
  const transfer = o.absolute === 'auto' ? levelTransfer(spans, scales.slice(0, features.length)) : null;
  const absolute = o.absolute === 'auto' ? transfer !== null && transfer >= LEVELS_TRANSFER : o.absolute;
  const levels = o.shapeLevels && !absolute ? shapeLevelColumns(columnNames(features, composites)) : [];
  const ctx = contextParams(o, absolute, scales, composites, levels);
  const X: Float64Array[] = [];
  const ys: number[] = [];
  const derivedCache = new Map<Sequence, Float64Array[]>();
  for (const s of spans) {
    let d = derivedCache.get(s.seq);
    if (!d) {
      d = deriveSequence(s.seq, ctx);
      derivedCache.set(s.seq, d);
    }
    for (let i = s.from; i < s.to; i++) {
      const l = s.seq.labels[i];
      if (l < 0) continue;
      X.push(Float64Array.from(d[i]));
      ys.push(l);
    }
  }
  const y = Uint8Array.from(ys);
  const person = ys.reduce((a, b) => a + b, 0);
  const background = ys.length - person;
  if (ys.length === 0)
    throw new UserError(
      'no labelled windows to train on: check that the labels cover the data (a window counts only if it lies wholly inside one label interval)',
    );
  if (person === 0 || background === 0) {
    throw new UserError(
      `the training data has only ${person === 0 ? 'background' : 'person'} windows (${ys.length}); a model needs both classes — add a recording or labels with the other class`,
    );
  }
  const dim = X[0].length;
  const mean = new Array<number>(dim).fill(0);
  const std = new Array<number>(dim).fill(0);
  for (const r of X) for (let j = 0; j < dim; j++) mean[j] += r[j] / X.length;
  for (const r of X) for (let j = 0; j < dim; j++) std[j] += (r[j] - mean[j]) ** 2 / X.length;
  // a constant feature's std is rounding noise: treat it as 0 (the feature is then ignored)
  for (let j = 0; j < dim; j++) std[j] = std[j] > 1e-18 * (1 + mean[j] * mean[j]) ? Math.sqrt(std[j]) : 0;
  for (const r of X) for (let j = 0; j < dim; j++) r[j] = std[j] > 0 ? (r[j] - mean[j]) / std[j] : 0;
  // class-balanced weights: calls differ in how long the person is there
  const w = Float64Array.from(ys, (l) => (l ? 0.5 / person : 0.5 / background) * ys.length);
  let classifier: ModelFile['classifier'];
  if (o.algo === 'logreg') {
    classifier = fitLogReg(X, y, w, o.l2);
    onStep?.(1, 1);
  } else {
    const forest = o.algo === 'rf';
    classifier = fitForest(
      X,
      y,
      w,
      {
        trees: forest ? o.trees : 1,
        bootstrap: forest,
        seed: o.seed,
        maxDepth: o.maxDepth,
        minLeaf: o.minLeaf,
        featuresPerSplit: forest ? Math.max(1, Math.round(Math.sqrt(dim))) : dim,
      },
      (k) => onStep?.(k, forest ? o.trees : 1),
    );
  }
  return { context: ctx, levelTransfer: transfer, mean, std, classifier, person, background };
}

export function modelFrom(f: Fitted, data: DataSet, o: TrainOptions, trainedOn: string): ModelFile {
  return {
    format: MODEL_FORMAT,
    version: MODEL_VERSION,
    createdBy: `spymate ${spymateVersion()}`,
    createdAt: new Date().toISOString(),
    trainedOn,
    algorithm: o.algo,
    features: [...data.features],
    windowMs: data.windowMs,
    classes: [...CLASSES],
    context: f.context,
    normalisation: {
      kind: 'per-sequence-causal',
      derived: derivedNames(columnNames(data.features, f.context.composites), f.context.absolute, f.context.levels),
      mean: f.mean,
      std: f.std,
    },
    smoothing: { halfLifeWindows: o.smooth, hysteresis: o.hysteresis, holdWindows: o.hold },
    classifier: f.classifier,
    training: {
      inputs: data.inputs,
      windows: f.person + f.background,
      person: f.person,
      background: f.background,
      options: { ...o, absolute: f.context.absolute },
      levelTransfer: f.levelTransfer,
    },
    cv: null,
    learningCurve: null,
  };
}

export function trainModel(
  data: DataSet,
  o: TrainOptions,
  trainedOn: string,
  onStep?: (done: number, total: number) => void,
): ModelFile {
  return modelFrom(fitSpans(wholeSpans(data.sequences), data.features, o, onStep), data, o, trainedOn);
}
