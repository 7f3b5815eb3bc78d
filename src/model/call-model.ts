import * as fs from 'node:fs';
import * as path from 'node:path';
import { FLOW_FEATURE_NAMES } from '../features/flow-summary';
import type { CallClassifier } from '../features/types';
import { shippedRulesDir } from '../rules/paths';
import { UserError } from '../util/errors';
import { forestProbability } from './forest';
import type { FlatTree, ForestParams } from './types';

/**
 * The call classifier's model file (rules/call-model.json): a random forest over a flow's
 * first-seconds statistics (FLOW_FEATURE_NAMES), the threshold above which a flow is a call, the
 * features most used by its splits, what it was trained on, and its leave-one-capture-out scores.
 */
export const CALL_MODEL_FORMAT = 'spymate-call-model';
export const CALL_MODEL_VERSION = 1;
export const DEFAULT_CALL_MODEL_PATH = path.join(shippedRulesDir(), 'call-model.json');

export interface CallTrainingInput {
  file: string;
  sha256: string;
  /** flows judged in it (past the classifier's gates), and of them calls */
  flows: number;
  calls: number;
}

/** Leave-one-capture-out: each capture's flows scored by a forest trained without that capture. */
export interface CallCvScores {
  captures: number;
  calls: number;
  others: number;
  /** calls scored ≥ threshold / calls */
  recall: number;
  /** others scored ≥ threshold / others */
  falsePositiveRate: number;
  /** the same for the flows no rule names (what the classifier is for in the product) */
  unnamedCalls: number;
  unnamedRecall: number;
  unnamedOthers: number;
  unnamedFalsePositiveRate: number;
  /** calls scored with their header shapes blinded (blinded()): finding a call whose format no rule knows */
  blindRecall: number;
}

export interface CallModelFile {
  format: typeof CALL_MODEL_FORMAT;
  version: typeof CALL_MODEL_VERSION;
  createdBy: string;
  created: string;
  features: string[];
  threshold: number;
  /** feature indexes by how often the forest splits on them, most first */
  top: number[];
  forest: ForestParams;
  training: { inputs: CallTrainingInput[]; flows: number; calls: number; augmented: number; seed: number };
  cv: CallCvScores | null;
}

function check(file: string, cond: boolean, what: string): asserts cond {
  if (!cond) throw new UserError(`${file}: damaged spymate call model (${what}); retrain with \`spymate train-calls\``);
}

/** Every internal node splits on a known feature at a finite threshold and points forward (so walking ends). */
function checkTree(file: string, t: FlatTree, d: number): void {
  const arrays = [t.feature, t.threshold, t.left, t.right, t.value];
  check(
    file,
    arrays.every(Array.isArray) && arrays.every((a) => a.length === t.feature.length) && t.feature.length > 0,
    'tree arrays',
  );
  const n = t.feature.length;
  for (let i = 0; i < n; i++) {
    const f = t.feature[i];
    if (f < 0) {
      check(file, typeof t.value[i] === 'number' && t.value[i] >= 0 && t.value[i] <= 1, 'leaf value');
      continue;
    }
    check(file, Number.isInteger(f) && f < d && Number.isFinite(t.threshold[i]), 'split');
    for (const c of [t.left[i], t.right[i]]) check(file, Number.isInteger(c) && c > i && c < n, 'tree links');
  }
}

function validate(file: string, m: CallModelFile): void {
  const d = FLOW_FEATURE_NAMES.length;
  check(
    file,
    Array.isArray(m.features) && m.features.length === d && m.features.every((f, i) => f === FLOW_FEATURE_NAMES[i]),
    `features: this spymate computes ${FLOW_FEATURE_NAMES.join(',')}`,
  );
  check(file, typeof m.threshold === 'number' && m.threshold > 0 && m.threshold <= 1, 'threshold');
  check(file, Array.isArray(m.top) && m.top.every((i) => Number.isInteger(i) && i >= 0 && i < d), 'top');
  check(
    file,
    !!m.forest && m.forest.kind === 'forest' && Array.isArray(m.forest.trees) && m.forest.trees.length > 0,
    'forest',
  );
  for (const t of m.forest.trees) checkTree(file, t, d);
}

/** Parses and checks a call model's text (`file` names it in errors). */
export function parseCallModel(file: string, text: string): CallModelFile {
  let m: Partial<CallModelFile> & { format?: unknown; version?: unknown };
  try {
    m = JSON.parse(text);
  } catch {
    throw new UserError(`${file}: not JSON, so not a spymate call model (train one with \`spymate train-calls\`)`);
  }
  if (!m || typeof m !== 'object' || m.format !== CALL_MODEL_FORMAT) {
    throw new UserError(`${file}: not a spymate call model (no "format": "${CALL_MODEL_FORMAT}")`);
  }
  if (m.version !== CALL_MODEL_VERSION) {
    throw new UserError(
      `${file}: call model format ${String(m.version)}, this spymate reads format ${CALL_MODEL_VERSION}; retrain with \`spymate train-calls\``,
    );
  }
  validate(file, m as CallModelFile);
  return m as CallModelFile;
}

/** The classifier the pipeline asks (features/types.ts CallClassifier). */
export function callClassifier(m: CallModelFile): CallClassifier {
  return { probability: (x) => forestProbability(m.forest, x), threshold: m.threshold, top: m.top };
}

/** Loads the call model; the shipped one by default. A missing file is an error only when named. */
export function loadCallModel(file: string = DEFAULT_CALL_MODEL_PATH): CallModelFile {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read the call model (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  return parseCallModel(file, text);
}
