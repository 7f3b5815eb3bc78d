import * as path from 'node:path';
import type { Command } from 'commander';
import { applyExitPolicy } from '../program';
import { addDataOptions, dataInputs, notice, runModelOnFiles, type DataFlags } from '../data-options';
import { DEFAULT_MODEL_PATH } from '../../model/load';
import { withOutputs } from '../../features/output';
import { evaluateOutcomes } from '../../model/metrics';
import { ownTrainingInputs } from '../../model/overlap';
import { predictionsCsv } from '../../model/predictions';
import { reportHtml } from '../report';
import { evaluationLines, learningCurveLines, perSequenceLines } from '../terminal';
import { printable, UserError } from '../../util/errors';

interface EvalFlags extends DataFlags {
  model?: string;
  json?: boolean;
  predictions?: string;
  report?: string;
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('score a presence model on labelled data it was not trained on')
    .argument('<DATA...>', 'traces (with --labels), CSV or ARFF files of window features')
    .option('--model <FILE>', 'presence model (default: the shipped one)')
    .option('--json', 'print one JSON object with the scores on stdout')
    .option('--predictions <OUT.csv>', 'write per-window time, flow, truth, raw, final, probability')
    .option('--report <OUT.html>', 'write a self-contained HTML page: timeline, learning curve, confusion matrix');
  addDataOptions(cmd);
  applyExitPolicy(cmd);
  cmd.action(async (files: string[], f: EvalFlags) => {
    const outputs = [
      ['--predictions', f.predictions],
      ['--report', f.report],
    ] as const;
    const modelFile = f.model ?? DEFAULT_MODEL_PATH;
    const { model, runs, e } = await withOutputs(
      dataInputs(files, f, modelFile),
      outputs,
      async ([predictions, report]) => {
        const { model, data, runs } = await runModelOnFiles(modelFile, files, f, true, 'evaluating');
        const own = ownTrainingInputs(model.meta, data.inputs);
        if (own.length > 0)
          notice(
            `warning: ${trainedOnLine(
              own.map((i) => i.file),
              data.inputs.length,
            )}`,
          );
        const e = evaluateOutcomes(runs);
        if (e.windows === 0)
          throw new UserError(`${files.join(', ')}: no labelled windows to score (do the labels cover the calls?)`);
        predictions?.write(predictionsCsv(runs, true));
        report?.write(reportHtml(model.meta, model.file, e, runs));
        return { model, runs, e };
      },
    );
    if (f.json) {
      const r = (x: number): number => Math.round(x * 1e6) / 1e6;
      process.stdout.write(
        JSON.stringify({
          windows: e.windows,
          accuracy: r(e.accuracy),
          precision: r(e.precision),
          recall: r(e.recall),
          f1: r(e.f1),
          confusion: e.confusion,
          raw_accuracy: r(e.rawAccuracy),
          delay_s: e.delayS,
          changes: e.changes,
          model: path.basename(model.file),
        }) + '\n',
      );
      return;
    }
    const per = perSequenceLines(runs);
    const lines = [
      `model ${model.file} (${model.meta.algorithm}, trained on ${model.meta.trainedOn})`,
      ...evaluationLines(e),
    ];
    if (per.length > 0) lines.push('', 'per sequence (final accuracy):', ...per);
    if (process.stdout.isTTY && model.meta.learningCurve)
      lines.push('', 'learning curve (from training):', ...learningCurveLines(model.meta.learningCurve));
    // the model's own words and the data's file names: a crafted one must not drive the terminal
    process.stdout.write(lines.map(printable).join('\n') + '\n');
  });
}

/** One line: which inputs the model was trained on (the first two by name), so their score is not a held-out one. */
function trainedOnLine(files: readonly string[], inputs: number): string {
  const names = [...new Set(files)];
  if (files.length === 1)
    return `${names[0]} is one of this model's training inputs: its score is not a held-out figure`;
  const named =
    names.length <= 2 ? names.join(' and ') : `${names.slice(0, 2).join(', ')} and ${names.length - 2} more`;
  const which = files.length === inputs ? `all ${inputs} inputs` : `${files.length} of ${inputs} inputs`;
  return `${which} (${named}) are this model's training inputs: the scores on them are not held-out figures`;
}
