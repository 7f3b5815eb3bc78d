/**
 * The presence model: what `spymate train` writes, what `eval`/`predict` and the live meter load.
 * The model file is a contract (docs/design.md, "Model file"): one JSON file, versioned, self-describing.
 */

export const MODEL_FORMAT = 'spymate-model';
export const MODEL_VERSION = 1;
export const CLASSES = ['background', 'person'] as const;

export type Algorithm = 'rf' | 'cart' | 'logreg';

/**
 * Causal per-sequence normalisation and temporal context (src/model/context.ts). Every derived
 * feature of window t is computed from windows ≤ t of the same sequence (flow / file) only.
 */
export interface ContextParams {
  /** windows in the short rolling mean/std and in the change (mean of the last N minus the N before) */
  windows: number;
  /** per input feature: v = asinh(x / scale) — a log scale that also accepts 0 and negatives */
  scales: number[];
  /** the call's own low/high levels: running quantiles of the short mean, over all past windows */
  quantileLow: number;
  quantileHigh: number;
  /** past windows count half after this many windows (the call's levels may drift) */
  halfLifeWindows: number;
  /** also give the classifier the absolute level s of each feature (levels rarely transfer between calls) */
  absolute: boolean;
  /**
   * Columns whose level s is given even without `absolute`: dimensionless shape measures (a
   * burst-size CV, an alternation ratio) mean the same in every call. Absent in models made before
   * they existed: none.
   */
  levels?: number[];
  /**
   * Columns computed from the inputs before the context, after them in `scales` and the derived
   * names (src/model/composite.ts). Absent in models made before they existed: none.
   */
  composites?: Composite[];
}

/** frame regularity of one direction: (1 + mean frame bytes) / (1 + frame-size CV) */
export interface Composite {
  name: string;
  /** indices into the model's input features */
  frameBytes: number;
  frameCv: number;
}

/** Final (live-usable) decision: exponential smoothing of the probability, then hysteresis. */
export interface SmoothingParams {
  /** half-life of the probability EWMA, in windows (0 = none) */
  halfLifeWindows: number;
  /** the final label flips to person above 0.5 + h and back to background below 0.5 − h … */
  hysteresis: number;
  /** … and only once the smoothed probability has stayed on the other side for this many windows */
  holdWindows: number;
}

export interface LogRegParams {
  kind: 'logreg';
  l2: number;
  /** over the standardised derived features; bias separate */
  weights: number[];
  bias: number;
}

/** A tree in flat arrays: node i is a leaf when feature[i] < 0, else x[feature] < threshold → left. */
export interface FlatTree {
  feature: number[];
  threshold: number[];
  left: number[];
  right: number[];
  /** leaf: P(person) */
  value: number[];
}

export interface ForestParams {
  kind: 'forest';
  trees: FlatTree[];
  maxDepth: number;
  minLeaf: number;
  /** features tried per split */
  featuresPerSplit: number;
}

export interface TrainingInput {
  file: string;
  sha256: string;
  /** sequences (flows) in it, windows, and windows with a label */
  sequences: number;
  windows: number;
  labelled: number;
}

export interface Scores {
  windows: number;
  accuracy: number;
  precision: number;
  recall: number;
  f1: number;
  rawAccuracy: number;
  /** median seconds from a true change to the final prediction following it; null when no change */
  delayS: number | null;
}

export interface CvSummary {
  folds: number;
  /** pooled over the folds' validation blocks */
  pooled: Scores;
  perFold: Scores[];
}

export interface ModelFile {
  format: typeof MODEL_FORMAT;
  version: typeof MODEL_VERSION;
  createdBy: string;
  createdAt: string;
  /** what the model was trained on, in words (e.g. "synthetic calls (provisional)") */
  trainedOn: string;
  algorithm: Algorithm;
  /** input features, by name, in the order the classifier expects them */
  features: string[];
  /** window length the features were computed with; null when unknown (CSV/ARFF) — then not checked */
  windowMs: number | null;
  classes: typeof CLASSES extends readonly (infer T)[] ? T[] : never;
  context: ContextParams;
  normalisation: {
    kind: 'per-sequence-causal';
    /** names of the derived features the classifier sees */
    derived: string[];
    /** standardisation of the derived features (training mean and std) */
    mean: number[];
    std: number[];
  };
  smoothing: SmoothingParams;
  classifier: LogRegParams | ForestParams;
  training: {
    inputs: TrainingInput[];
    windows: number;
    person: number;
    background: number;
    options: Record<string, unknown>;
    /** how well absolute levels carried over between the training calls (src/model/transfer.ts); null when not measured */
    levelTransfer?: number | null;
  };
  cv: CvSummary | null;
  /** `train --learning-curve`: training-set size vs training and validation accuracy */
  learningCurve: LearningPoint[] | null;
}

export interface LearningPoint {
  /** labelled training windows */
  size: number;
  trainAccuracy: number;
  validationAccuracy: number;
}

export interface Prediction {
  /** the bare per-window classifier */
  raw: 0 | 1;
  rawProbability: number;
  /** the final, smoothed decision with hysteresis */
  presence: 0 | 1;
  probability: number;
  /** 0..100: confidence in `presence` */
  certainty: number;
}

/** One per flow / sequence; causal: keeps its state inside, each push is the next window. */
export interface SequencePredictor {
  push(features: Float64Array): Prediction;
}

export interface PresenceModel {
  readonly file: string;
  readonly meta: ModelFile;
  readonly windowMs: number | null;
  readonly features: readonly string[];
  /** `inputNames` are the names of the vector the caller will push (e.g. FEATURE_NAMES) */
  createPredictor(inputNames: readonly string[]): SequencePredictor;
}

/** One time-ordered sequence of windows (a CSV/ARFF file, or one call flow of a trace). */
export interface Sequence {
  /** file it came from, and the flow in it (traces) */
  source: string;
  flow: string;
  /** start time of each window in seconds (epoch for traces; index × window for tables) */
  times: Float64Array;
  /** rows in `DataSet.features` order */
  rows: Float64Array[];
  /** 1 person, 0 background, -1 unlabelled */
  labels: Int8Array;
  /** a trace's call seen for the remote side's camera (loadDataSet side 'both'); else the local side's */
  remote?: true;
}

export interface DataSet {
  features: string[];
  /** window length in ms when known (traces) */
  windowMs: number | null;
  sequences: Sequence[];
  inputs: TrainingInput[];
}

/** Which windows of a sequence take part: [from, to) */
export interface Span {
  seq: Sequence;
  from: number;
  to: number;
}
