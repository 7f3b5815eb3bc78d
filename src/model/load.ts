import * as path from 'node:path';
import { writeOutput } from '../features/output';
import { shippedRulesDir } from '../rules/paths';
import { UserError } from '../util/errors';
import { readBoundedText } from '../util/read-text';
import { ModelPredictor, featureIndex } from './predictor';
import { validateModel } from './validate';
import { MODEL_FORMAT, MODEL_VERSION, type ModelFile, type PresenceModel, type SequencePredictor } from './types';

/** The shipped default presence model. */
export const DEFAULT_MODEL_PATH = path.join(shippedRulesDir(), 'presence-model.json');

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
  validateModel(file, m as ModelFile);
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
    text = readBoundedText(file, 'a model JSON file');
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
