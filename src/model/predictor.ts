import { UserError } from '../util/errors';
import { ContextState } from './context';
import { forestProbability } from './forest';
import { logRegProbability } from './logreg';
import type { ModelFile, Prediction, SequencePredictor, SmoothingParams } from './types';

/** The bare classifier: P(person) from a standardised derived-feature vector. */
function classifierProbability(m: ModelFile): (z: Float64Array) => number {
  const c = m.classifier;
  return c.kind === 'logreg' ? (z) => logRegProbability(c, z) : (z) => forestProbability(c, z);
}

/** EWMA of the probability, then hysteresis around 0.5: the final, live-usable decision. */
export class Smoother {
  private readonly keep: number;
  private p = NaN;
  private state: 0 | 1 = 0;
  private against = 0;
  constructor(private readonly s: SmoothingParams) {
    this.keep = s.halfLifeWindows > 0 ? Math.pow(0.5, 1 / s.halfLifeWindows) : 0;
  }

  /** returns the smoothed probability; `presence` holds the decision */
  push(raw: number): number {
    if (this.p !== this.p) {
      this.p = raw;
      this.state = raw >= 0.5 ? 1 : 0;
      return raw;
    }
    this.p = this.keep * this.p + (1 - this.keep) * raw;
    const other = this.state === 0 ? this.p > 0.5 + this.s.hysteresis : this.p < 0.5 - this.s.hysteresis;
    this.against = other ? this.against + 1 : 0;
    if (other && this.against >= Math.max(1, this.s.holdWindows)) {
      this.state = this.state ? 0 : 1;
      this.against = 0;
    }
    return this.p;
  }

  get presence(): 0 | 1 {
    return this.state;
  }
}

/**
 * Maps the caller's feature vector onto the model's features by name: the model may use a
 * subset, in another order. Missing ones are a UserError naming them.
 */
export function featureIndex(
  modelFeatures: readonly string[],
  inputNames: readonly string[],
  where: string,
): Int32Array {
  const pos = new Map(inputNames.map((n, i) => [n, i]));
  const missing = modelFeatures.filter((f) => !pos.has(f));
  if (missing.length > 0) {
    throw new UserError(
      `${where}: the model needs feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that the data does not have; retrain with \`spymate train\` on data with these features`,
    );
  }
  return Int32Array.from(modelFeatures, (f) => pos.get(f) as number);
}

/** Per-window prediction of one sequence; allocation-free after construction except the result. */
export class ModelPredictor implements SequencePredictor {
  private readonly ctx: ContextState;
  private readonly picked: Float64Array;
  private readonly derived: Float64Array;
  private readonly mean: Float64Array;
  private readonly inv: Float64Array;
  private readonly prob: (z: Float64Array) => number;
  private readonly smoother: Smoother;

  constructor(
    m: ModelFile,
    private readonly index: Int32Array,
  ) {
    this.ctx = new ContextState(m.context);
    this.picked = new Float64Array(index.length);
    this.derived = new Float64Array(m.normalisation.derived.length);
    this.mean = Float64Array.from(m.normalisation.mean);
    this.inv = Float64Array.from(m.normalisation.std, (s) => (s > 0 ? 1 / s : 0));
    this.prob = classifierProbability(m);
    this.smoother = new Smoother(m.smoothing);
  }

  push(features: Float64Array): Prediction {
    const idx = this.index;
    for (let i = 0; i < idx.length; i++) this.picked[i] = features[idx[i]];
    const z = this.derived;
    this.ctx.push(this.picked, z);
    for (let j = 0; j < z.length; j++) z[j] = (z[j] - this.mean[j]) * this.inv[j];
    const rawP = this.prob(z);
    const p = this.smoother.push(rawP);
    const presence = this.smoother.presence;
    return {
      raw: rawP >= 0.5 ? 1 : 0,
      rawProbability: rawP,
      presence,
      probability: p,
      certainty: Math.round(1000 * (presence ? p : 1 - p)) / 10,
    };
  }
}
