import { evaluateOutcomes, scoresOf } from './metrics';
import { identityIndex, runSpan, type SequenceRun } from './evaluate';
import { fitSpans, modelFrom, type TrainOptions } from './train';
import type { Span } from './types';
import type { CvSummary, DataSet, LearningPoint, ModelFile, Sequence } from './types';

/**
 * Folds of contiguous blocks: fold j validates on the j-th of k equal time blocks of every
 * sequence. Neighbouring windows are near-copies, so shuffled folds would leak.
 */
export function contiguousFolds(seqs: readonly Sequence[], k: number): Span[][] {
  return Array.from({ length: k }, (_, j) =>
    seqs.map((seq) => {
      const n = seq.rows.length;
      return { seq, from: Math.floor((j * n) / k), to: Math.floor(((j + 1) * n) / k) };
    }),
  );
}

/**
 * Training spans of a fold: everything outside its validation blocks, minus `purge` windows on
 * each side of a block (their rolling context overlaps the block).
 */
export function trainingSpans(validation: readonly Span[], purge: number): Span[] {
  const out: Span[] = [];
  for (const v of validation) {
    const n = v.seq.rows.length;
    const beforeEnd = Math.max(0, v.from - purge);
    const afterStart = Math.min(n, v.to + purge);
    if (beforeEnd > 0) out.push({ seq: v.seq, from: 0, to: beforeEnd });
    if (afterStart < n) out.push({ seq: v.seq, from: afterStart, to: n });
  }
  return out;
}

/** The first `fraction` of each training span's windows (time order): a learning-curve point. */
function prefixSpans(spans: readonly Span[], fraction: number): Span[] {
  return spans.map((s) => ({
    seq: s.seq,
    from: s.from,
    to: s.from + Math.max(1, Math.round((s.to - s.from) * fraction)),
  }));
}

export interface CvResult {
  summary: CvSummary;
  runs: SequenceRun[];
  /** per fold, the model trained on all its training windows (null: a fold with one class) */
  foldModels: (ModelFile | null)[];
}

function hasBothClasses(spans: readonly Span[]): boolean {
  let seen = 0;
  for (const s of spans) for (let i = s.from; i < s.to; i++) if (s.seq.labels[i] >= 0) seen |= 1 << s.seq.labels[i];
  return seen === 3;
}

function windowSeconds(data: DataSet): number {
  return (data.windowMs ?? 500) / 1000;
}

export function crossValidate(data: DataSet, o: TrainOptions, k: number, onFold?: (done: number) => void): CvResult {
  const windowS = windowSeconds(data);
  const folds = contiguousFolds(data.sequences, k);
  const runs: SequenceRun[] = [];
  const perFold = [];
  const foldModels: (ModelFile | null)[] = [];
  for (let j = 0; j < folds.length; j++) {
    const train = trainingSpans(folds[j], o.context);
    if (!hasBothClasses(train)) {
      foldModels.push(null);
      onFold?.(j + 1);
      continue;
    }
    const model = modelFrom(fitSpans(train, data.features, o), data, o, 'cv fold');
    foldModels.push(model);
    const idx = identityIndex(data.features.length);
    const foldRuns = folds[j].filter((s) => s.to > s.from).map((s) => runSpan(model, s, idx, windowS));
    runs.push(...foldRuns);
    perFold.push(scoresOf(evaluateOutcomes(foldRuns)));
    onFold?.(j + 1);
  }
  return { summary: { folds: k, pooled: scoresOf(evaluateOutcomes(runs)), perFold }, runs, foldModels };
}

export const LEARNING_FRACTIONS = [0.1, 0.2, 0.4, 0.6, 0.8, 1];

/**
 * Training-set size vs training (raw) and validation (final) accuracy, averaged over the folds.
 * `cv` (the same k and options) supplies the 100 % models instead of training them again.
 */
export function learningCurve(
  data: DataSet,
  o: TrainOptions,
  k: number,
  onStep?: (done: number) => void,
  cv?: CvResult,
): LearningPoint[] {
  if (cv && cv.foldModels.length !== k)
    throw new Error(`learning curve: ${k} folds, cross-validation had ${cv.foldModels.length}`);
  const windowS = windowSeconds(data);
  const folds = contiguousFolds(data.sequences, k);
  const idx = identityIndex(data.features.length);
  let step = 0;
  return LEARNING_FRACTIONS.map((fr) => {
    let size = 0;
    let tr = 0;
    let va = 0;
    let m = 0;
    for (let j = 0; j < folds.length; j++) {
      const fold = folds[j];
      const train = prefixSpans(trainingSpans(fold, o.context), fr);
      onStep?.(++step);
      if (!hasBothClasses(train)) continue;
      const model =
        fr === 1 && cv ? cv.foldModels[j] : modelFrom(fitSpans(train, data.features, o), data, o, 'learning curve');
      if (!model) continue;
      const trainRuns = train.map((s) => runSpan(model, s, idx, windowS));
      const valRuns = fold.filter((s) => s.to > s.from).map((s) => runSpan(model, s, idx, windowS));
      const te = evaluateOutcomes(trainRuns);
      size += te.windows;
      tr += te.rawAccuracy;
      va += evaluateOutcomes(valRuns).accuracy;
      m++;
    }
    return { size: m ? Math.round(size / m) : 0, trainAccuracy: m ? tr / m : 0, validationAccuracy: m ? va / m : 0 };
  });
}
