/**
 * Checks a parsed model file before anything runs it: every index in range, every tree a tree
 * (no node reached twice, so prediction always ends), every number finite, every size bounded.
 * A model is data from a file: a crafted one must fail here in one line, not hang the monitor, give
 * NaN probabilities, read past an array, or allocate without bound.
 */
import { UserError } from '../util/errors';
import { columnNames } from './composite';
import { derivedNames } from './context';
import type { FlatTree, ModelFile } from './types';

/** Far above anything `spymate train` makes (its own limits: --context ≤ 120, --trees ≤ 2000). */
export const MODEL_LIMITS = {
  features: 10_000,
  featureName: 200,
  contextWindows: 1000,
  halfLife: 1_000_000,
  trees: 10_000,
  nodesPerTree: 2_000_000,
  nodes: 50_000_000,
  holdWindows: 100_000,
} as const;

class Damaged extends Error {}

function fail(what: string): never {
  throw new Damaged(what);
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isInt = (v: unknown, lo: number, hi: number): v is number =>
  Number.isInteger(v) && (v as number) >= lo && (v as number) <= hi;

function numbers(v: unknown, what: string, n?: number, min = -Infinity): number[] {
  if (!Array.isArray(v)) fail(`${what} is not a list`);
  if (n !== undefined && v.length !== n) fail(`${what} has ${v.length} values, the model needs ${n}`);
  v.forEach((x, i) => {
    if (!isNum(x) || x < min)
      fail(`${what}[${i}] is ${JSON.stringify(x)}, not a finite number${min > -Infinity ? ` ≥ ${min}` : ''}`);
  });
  return v as number[];
}

/**
 * One tree: parallel arrays of the same length; from the root, each internal node's children are
 * nodes of the tree reached for the first time, so every path ends at a leaf in at most n steps.
 */
function checkTree(t: FlatTree, k: number, width: number): number {
  if (!t || typeof t !== 'object') fail(`tree ${k} is not an object`);
  const n = Array.isArray(t.feature) ? t.feature.length : -1;
  if (n <= 0) fail(`tree ${k} has no nodes`);
  if (n > MODEL_LIMITS.nodesPerTree) fail(`tree ${k} has ${n} nodes, more than ${MODEL_LIMITS.nodesPerTree}`);
  for (const key of ['threshold', 'left', 'right', 'value'] as const) {
    if (!Array.isArray(t[key]) || t[key].length !== n) fail(`tree ${k}: ${key} does not have one entry per node`);
  }
  const seen = new Uint8Array(n);
  const stack = [0];
  seen[0] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    const f = t.feature[i];
    if (!Number.isInteger(f)) fail(`tree ${k} node ${i}: feature ${JSON.stringify(f)} is not a whole number`);
    if (f < 0) {
      const v = t.value[i];
      if (!isNum(v) || v < 0 || v > 1)
        fail(`tree ${k} node ${i}: leaf probability ${JSON.stringify(v)} is not from 0 to 1`);
      continue;
    }
    if (f >= width) fail(`tree ${k} node ${i}: feature ${f} is not one of the model's ${width} derived features`);
    if (!isNum(t.threshold[i]))
      fail(`tree ${k} node ${i}: threshold ${JSON.stringify(t.threshold[i])} is not a finite number`);
    for (const side of ['left', 'right'] as const) {
      const c = t[side][i];
      if (!Number.isInteger(c) || c < 0 || c >= n) {
        fail(`tree ${k} node ${i}: ${side} child ${JSON.stringify(c)} is not one of the tree's ${n} nodes`);
      }
      if (seen[c])
        fail(`tree ${k} node ${i}: ${side} child ${c} is reached twice (a loop: prediction would never end)`);
      seen[c] = 1;
      stack.push(c);
    }
  }
  return n;
}

/** What is wrong with tree `k` (its nodes, children and `width`-feature splits), or null: for other model files (the call model). */
export function treeDefect(t: FlatTree, k: number, width: number): string | null {
  try {
    checkTree(t, k, width);
    return null;
  } catch (err) {
    if (err instanceof Damaged) return err.message;
    throw err;
  }
}

function checkModel(m: ModelFile): void {
  const features = m.features;
  if (!Array.isArray(features) || features.length === 0) fail('features is not a list of names');
  if (features.length > MODEL_LIMITS.features) fail(`${features.length} features, more than ${MODEL_LIMITS.features}`);
  features.forEach((f, i) => {
    if (typeof f !== 'string' || f.length === 0 || f.length > MODEL_LIMITS.featureName) {
      fail(`feature ${i} is not a name of 1 to ${MODEL_LIMITS.featureName} characters`);
    }
  });
  if (new Set(features).size !== features.length) fail('a feature name appears twice');
  if (m.windowMs !== null && !(isNum(m.windowMs) && m.windowMs > 0 && m.windowMs <= 60_000)) {
    fail(`windowMs ${JSON.stringify(m.windowMs)} is not a window length in ms`);
  }
  const c = m.context;
  if (!c || typeof c !== 'object') fail('no context');
  if (!isInt(c.windows, 1, MODEL_LIMITS.contextWindows)) {
    fail(`context windows ${JSON.stringify(c.windows)} is not a whole number from 1 to ${MODEL_LIMITS.contextWindows}`);
  }
  const composites = c.composites ?? [];
  if (!Array.isArray(composites)) fail('context composites is not a list');
  composites.forEach((k, i) => {
    if (!k || !isInt(k.frameBytes, 0, features.length - 1) || !isInt(k.frameCv, 0, features.length - 1)) {
      fail(`context composite ${i} does not name two of the model's features`);
    }
  });
  const columns = features.length + composites.length;
  numbers(c.scales, 'context scales', columns);
  c.scales.forEach((s, i) => s > 0 || fail(`context scales[${i}] is ${s}, not above 0`));
  for (const q of ['quantileLow', 'quantileHigh'] as const) {
    if (!isNum(c[q]) || c[q] < 0 || c[q] > 1) fail(`context ${q} ${JSON.stringify(c[q])} is not from 0 to 1`);
  }
  if (!isNum(c.halfLifeWindows) || c.halfLifeWindows < 0 || c.halfLifeWindows > MODEL_LIMITS.halfLife) {
    fail(`context halfLifeWindows ${JSON.stringify(c.halfLifeWindows)} is out of range`);
  }
  const levels = c.levels ?? [];
  if (!Array.isArray(levels) || !levels.every((i) => isInt(i, 0, columns - 1)))
    fail('context levels are not column numbers');
  // the derived vector the context fills for these features: the normalisation and classifier index it
  const width = derivedNames(columnNames(features, composites), c.absolute === true, levels).length;
  const n = m.normalisation;
  if (!n || !Array.isArray(n.derived) || n.derived.length !== width)
    fail(`normalisation does not have the ${width} derived features`);
  numbers(n.mean, 'normalisation mean', width);
  numbers(n.std, 'normalisation std', width, 0);
  const k = m.classifier;
  if (!k || typeof k !== 'object') fail('no classifier');
  if (k.kind === 'logreg') {
    numbers(k.weights, 'logreg weights', width);
    if (!isNum(k.bias)) fail('logreg bias is not a finite number');
  } else if (k.kind === 'forest') {
    if (!Array.isArray(k.trees) || k.trees.length === 0) fail('the forest has no trees');
    if (k.trees.length > MODEL_LIMITS.trees) fail(`${k.trees.length} trees, more than ${MODEL_LIMITS.trees}`);
    let nodes = 0;
    k.trees.forEach((t, i) => {
      nodes += checkTree(t, i, width);
      if (nodes > MODEL_LIMITS.nodes) fail(`more than ${MODEL_LIMITS.nodes} tree nodes in all`);
    });
  } else fail(`classifier kind ${JSON.stringify((k as { kind?: unknown }).kind)} is neither logreg nor forest`);
  const s = m.smoothing;
  if (!s || typeof s !== 'object') fail('no smoothing');
  if (!isNum(s.halfLifeWindows) || s.halfLifeWindows < 0 || s.halfLifeWindows > MODEL_LIMITS.halfLife) {
    fail(`smoothing halfLifeWindows ${JSON.stringify(s.halfLifeWindows)} is out of range`);
  }
  if (!isNum(s.hysteresis) || s.hysteresis < 0 || s.hysteresis >= 0.5) {
    fail(`smoothing hysteresis ${JSON.stringify(s.hysteresis)} is not from 0 to below 0.5`);
  }
  if (!isInt(s.holdWindows, 0, MODEL_LIMITS.holdWindows))
    fail(`smoothing holdWindows ${JSON.stringify(s.holdWindows)} is out of range`);
}

/** Throws a UserError naming the file and what is wrong when `m` is not a model spymate can run. */
export function validateModel(file: string, m: ModelFile): void {
  try {
    checkModel(m);
  } catch (err) {
    if (!(err instanceof Damaged)) throw err;
    throw new UserError(`${file}: damaged spymate model (${err.message}); retrain with \`spymate train\``);
  }
}
