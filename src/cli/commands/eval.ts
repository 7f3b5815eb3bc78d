import * as path from 'node:path';
import type { Command } from 'commander';
import { applyExitPolicy } from '../program';
import { addDataOptions, runModelOnFiles, type DataFlags } from '../data-options';
import { DEFAULT_MODEL_PATH, writePrivate } from '../../model/load';
import { evaluateOutcomes } from '../../model/metrics';
import { predictionsCsv } from '../../model/predictions';
import { reportHtml } from '../report';
import { evaluationLines, learningCurveLines, perSequenceLines } from '../terminal';
import { UserError } from '../../util/errors';

interface EvalFlags extends DataFlags {
  model: string;
  json?: boolean;
  predictions?: string;
  report?: string;
}

export function registerEval(program: Command): void {
  const cmd = program
    .command('eval')
    .description('score a presence model on labelled data it was not trained on')
    .argument('<DATA...>', 'traces (with --labels), CSV or ARFF files of window features')
    .option('--model <FILE>', 'presence model (default: the shipped one)', DEFAULT_MODEL_PATH)
    .option('--json', 'print one JSON object with the scores on stdout')
    .option('--predictions <OUT.csv>', 'write per-window time, flow, truth, raw, final, probability')
    .option('--report <OUT.html>', 'write a self-contained HTML page: timeline, learning curve, confusion matrix');
  addDataOptions(cmd);
  applyExitPolicy(cmd);
  cmd.action(async (files: string[], f: EvalFlags) => {
    const { model, runs } = await runModelOnFiles(f.model, files, f, true, 'evaluating');
    const e = evaluateOutcomes(runs);
    if (e.windows === 0)
      throw new UserError(`${files.join(', ')}: no labelled windows to score (do the labels cover the calls?)`);
    if (f.predictions) writePrivate(f.predictions, predictionsCsv(runs, true));
    if (f.report) writePrivate(f.report, reportHtml(model.meta, model.file, e, runs));
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
    process.stdout.write(lines.join('\n') + '\n');
  });
}
