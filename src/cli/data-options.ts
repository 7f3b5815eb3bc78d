import type { Command } from 'commander';
import { parseLocal, type Cidr } from '../flow/local';
import { collect, intInRange } from './program';
import { errorLine, usageError } from '../util/errors';
import { loadDataSet, parseFeatureList } from '../model/data';
import { runSpan, type SequenceRun } from '../model/evaluate';
import { loadModel } from '../model/load';
import { featureIndex } from '../model/predictor';
import { progress } from '../model/progress';
import { wholeSpans } from '../model/train';
import type { DataSet, PresenceModel } from '../model/types';

/** Options every model command shares for reading DATA (traces + labels, CSV, ARFF). */
export interface DataFlags {
  labels?: string[];
  labelColumn?: string;
  features?: string;
  window?: number;
  rules?: string;
  local?: string[];
  localEach?: string[];
}

export function addDataOptions(cmd: Command): Command {
  return cmd
    .option(
      '--labels <FILE>',
      'ground truth for a trace (start,end,label); repeat, paired in order with the traces',
      collect,
    )
    .option('--label-column <NAME>', 'class column of CSV/ARFF input (default: the last)')
    .option('--features <LIST>', 'comma-separated feature names to use (default: all numeric columns)')
    .option(
      '--window <MS>',
      "window length, 100..900 ms: of traces (default 500; eval/predict: the model's); for CSV/ARFF it declares theirs",
      intInRange('--window', 100, 900),
    )
    .option('--rules <FILE>', 'flow rules for traces (default: the shipped rules/)')
    .option(
      '--local <CIDR|ADDR:PORT>',
      'which side is ours (in/out direction): addresses, or one endpoint when both peers share an address; repeatable',
      collect,
    )
    .option(
      '--local-each <CIDR|ADDR:PORT>',
      "ours in one trace only: repeat, paired in order with the traces (traces from different hosts, or a call's other direction)",
      collect,
    );
}

function cidrs(list: string[] | undefined, flag = '--local'): Cidr[] {
  return (list ?? []).map((c) => {
    try {
      return parseLocal(c);
    } catch (err) {
      throw usageError(`${flag} ${c}: ${(err as Error).message}`);
    }
  });
}

/** The files a command reads, by the flag that named them: an output must be none of them. */
export function dataInputs(files: string[], f: DataFlags, model?: string): Array<readonly [string, string]> {
  return [
    ...files.map((x) => ['input', x] as const),
    ...(f.labels ?? []).map((x) => ['--labels', x] as const),
    ...(model !== undefined ? [['--model', model] as const] : []),
  ];
}

export function notice(line: string): void {
  errorLine(`spymate: ${line}`);
}

/** Reads DATA with a progress bar over the inputs (traces can take a while). */
export async function readData(
  files: string[],
  f: DataFlags,
  needLabels: boolean,
  windowMs?: number,
  side: 'local' | 'both' = 'local',
): Promise<DataSet> {
  const bar = progress('reading', files.length);
  try {
    return await loadDataSet(files, {
      labels: f.labels ?? [],
      labelColumn: f.labelColumn,
      features: f.features !== undefined ? parseFeatureList(f.features) : undefined,
      windowMs: f.window ?? windowMs,
      rules: f.rules,
      local: cidrs(f.local),
      localEach: f.localEach && cidrs(f.localEach, '--local-each'),
      needLabels,
      side,
      notice,
      onFile: (k) => bar.update(k),
    });
  } finally {
    bar.stop();
  }
}

export interface ModelRun {
  model: PresenceModel;
  data: DataSet;
  runs: SequenceRun[];
}

/**
 * What eval and predict share: load the model (checking --window), read the data with the
 * model's window length by default, run it causally over every sequence (progress on a TTY).
 */
export async function runModelOnFiles(
  modelFile: string,
  files: string[],
  f: DataFlags,
  needLabels: boolean,
  verb: string,
  /** 'both': each call of a trace for the local camera and for the remote one (predict) */
  side: 'local' | 'both' = 'local',
): Promise<ModelRun> {
  const model = loadModel(modelFile, f.window !== undefined ? { windowMs: f.window } : undefined);
  const data = await readData(files, f, needLabels, model.windowMs ?? undefined, side);
  const index = featureIndex(model.features, data.features, modelFile);
  const windowS = (data.windowMs ?? model.windowMs ?? 500) / 1000;
  const bar = progress(verb, data.sequences.length);
  const runs = wholeSpans(data.sequences).map((s, i) => {
    const r = runSpan(model.meta, s, index, windowS);
    bar.update(i + 1);
    return r;
  });
  bar.stop();
  return { model, data, runs };
}
