import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeOutput } from '../features/output';
import { shippedRulesDir } from '../rules/paths';
import { UserError } from '../util/errors';
import { ModelPredictor, featureIndex } from './predictor';
import { columnNames } from './composite';
import { derivedNames } from './context';
import { MODEL_FORMAT, MODEL_VERSION, type ModelFile, type PresenceModel, type SequencePredictor } from './types';

/** The shipped default presence model. */
export const DEFAULT_MODEL_PATH = path.join(shippedRulesDir(), 'presence-model.json');

function check(file: string, cond: boolean, what: string): void {
  if (!cond) throw new UserError(`${file}: damaged spymate model (${what}); retrain with \`spymate train\``);
}

/** Structural checks of a parsed model file beyond format/version. */
function validate(file: string, m: ModelFile): void {
  check(file, Array.isArray(m.features) && m.features.every((f) => typeof f === 'string'), 'features');
  check(file, m.windowMs === null || (typeof m.windowMs === 'number' && m.windowMs > 0), 'windowMs');
  const c = m.context;
  const composites = c?.composites ?? [];
  check(
    file,
    !!c &&
      Array.isArray(composites) &&
      composites.every(
        (k) => k.frameBytes >= 0 && k.frameBytes < m.features.length && k.frameCv >= 0 && k.frameCv < m.features.length,
      ),
    'context composites',
  );
  check(
    file,
    Array.isArray(c.scales) && c.scales.length === m.features.length + composites.length && c.windows >= 1,
    'context',
  );
  const levels = c.levels ?? [];
  check(
    file,
    Array.isArray(levels) && levels.every((i) => Number.isInteger(i) && i >= 0 && i < c.scales.length),
    'context levels',
  );
  const n = m.normalisation;
  // the derived vector the context will fill for these features: a model cut short would read past it
  const width = derivedNames(columnNames(m.features, composites), c.absolute === true, levels).length;
  check(
    file,
    !!n &&
      Array.isArray(n.derived) &&
      n.derived.length === width &&
      Array.isArray(n.mean) &&
      Array.isArray(n.std) &&
      n.mean.length === width &&
      n.std.length === width,
    'normalisation',
  );
  const k = m.classifier;
  check(
    file,
    !!k &&
      (k.kind === 'logreg'
        ? Array.isArray(k.weights) && k.weights.length === width
        : k.kind === 'forest' && Array.isArray(k.trees) && k.trees.length > 0),
    'classifier',
  );
  check(file, !!m.smoothing && typeof m.smoothing.hysteresis === 'number', 'smoothing');
}

function parseModel(file: string, text: string): ModelFile {
  let m: Partial<ModelFile> & { format?: unknown; version?: unknown; createdBy?: unknown };
  try {
    m = JSON.parse(text);
  } catch {
    throw new UserError(
      `${file}: not JSON, so not a spymate model (train one with \`spymate train ... -o ${path.basename(file)}\`)`,
    );
  }
  if (!m || typeof m !== 'object' || m.format !== MODEL_FORMAT) {
    throw new UserError(
      `${file}: not a spymate model (no "format": "${MODEL_FORMAT}"); train one with \`spymate train\``,
    );
  }
  if (m.version !== MODEL_VERSION) {
    throw new UserError(
      `${file}: made by ${typeof m.createdBy === 'string' ? m.createdBy : 'another spymate'} in model format ${String(m.version)}, this spymate reads format ${MODEL_VERSION}; retrain with \`spymate train\``,
    );
  }
  validate(file, m as ModelFile);
  return m as ModelFile;
}

class LoadedModel implements PresenceModel {
  readonly windowMs: number | null;
  readonly features: readonly string[];
  constructor(
    readonly file: string,
    readonly meta: ModelFile,
  ) {
    this.windowMs = meta.windowMs;
    this.features = meta.features;
  }

  createPredictor(inputNames: readonly string[]): SequencePredictor {
    return new ModelPredictor(this.meta, featureIndex(this.meta.features, inputNames, this.file));
  }
}

/**
 * Loads and checks a model. With `expect`, the run's window length and features must fit:
 * a model trained on other windows or features would silently mis-classify.
 */
export function loadModel(
  file: string,
  expect?: { windowMs?: number; featureNames?: readonly string[] },
): PresenceModel {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') {
      throw new UserError(
        file === DEFAULT_MODEL_PATH
          ? `${file}: the shipped model is missing (reinstall, or give --model FILE)`
          : `${file}: no such model file (train one with \`spymate train\`, or leave out --model for the shipped one)`,
      );
    }
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, expected a model JSON file`);
    throw err;
  }
  const meta = parseModel(file, text);
  if (expect?.windowMs !== undefined && meta.windowMs !== null && meta.windowMs !== expect.windowMs) {
    throw new UserError(
      `${file}: the model was trained on ${meta.windowMs} ms windows, this run uses ${expect.windowMs} ms; use --window ${meta.windowMs} or retrain with --window ${expect.windowMs}`,
    );
  }
  if (expect?.featureNames) featureIndex(meta.features, expect.featureNames, file);
  return new LoadedModel(file, meta);
}

/** Writes a model file: mode 0600, in place only once whole (a failed save leaves the old file as it was). */
export function saveModel(file: string, m: ModelFile): void {
  writeOutput(file, modelJson(m));
}

export function modelJson(m: ModelFile): string {
  return JSON.stringify(m) + '\n';
}
