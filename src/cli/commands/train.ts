import * as path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { applyExitPolicy, intInRange, positiveNumber } from '../program';
import { addDataOptions, dataInputs, readData, type DataFlags } from '../data-options';
import { crossValidate, learningCurve, LEARNING_FRACTIONS, type CvResult } from '../../model/cv';
import { modelJson } from '../../model/load';
import { withOutputs } from '../../features/output';
import { progress } from '../../model/progress';
import { learningCurveLines, scoreLines } from '../terminal';
import { DEFAULT_TRAIN_OPTIONS, trainModel, type TrainOptions } from '../../model/train';
import { LEVELS_TRANSFER } from '../../model/transfer';
import type { Algorithm } from '../../model/types';
import { errorLine } from '../../util/errors';

interface TrainFlags extends DataFlags {
  output: string;
  algo: Algorithm;
  cv: number;
  learningCurve?: boolean;
  l2: number;
  trees: number;
  maxDepth: number;
  minLeaf: number;
  context: number;
  smooth: number;
  hold: number;
  hysteresis: number;
  seed: number;
  absolute?: boolean;
  frameRegularity: boolean;
  shapeLevels: boolean;
  trainedOn?: string;
}

function algo(v: string): Algorithm {
  if (v === 'rf' || v === 'cart' || v === 'logreg') return v;
  throw new InvalidArgumentError(`--algo must be rf, cart or logreg, got '${v}'`);
}

function fraction(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0 || n >= 0.5)
    throw new InvalidArgumentError(`--hysteresis must be from 0 to below 0.5, got '${v}'`);
  return n;
}

export function registerTrain(program: Command): void {
  const d = DEFAULT_TRAIN_OPTIONS;
  const cmd = program
    .command('train')
    .description('train a presence model on labelled windows (traces + --labels, CSV or ARFF)')
    .argument(
      '<DATA...>',
      'traces (pcap/pcapng, with --labels), CSV or ARFF files of window features; each is its own time-ordered sequence',
    )
    .requiredOption('-o, --output <MODEL>', 'model file to write (JSON, mode 0600)')
    .option('--algo <NAME>', 'rf | cart | logreg', algo, d.algo)
    .option('--cv <K>', 'cross-validation folds of contiguous blocks (0 = none)', intInRange('--cv', 0, 50), 5)
    .option('--learning-curve', 'also compute the learning curve (training size vs training/validation accuracy)')
    .option('--l2 <X>', 'logreg: L2 penalty', positiveNumber('--l2'), d.l2)
    .option('--trees <N>', 'rf: trees', intInRange('--trees', 1, 2000), d.trees)
    .option('--max-depth <N>', 'rf/cart: maximum tree depth', intInRange('--max-depth', 1, 40), d.maxDepth)
    .option('--min-leaf <N>', 'rf/cart: fewest windows in a leaf', intInRange('--min-leaf', 1, 100000), d.minLeaf)
    .option(
      '--context <N>',
      'temporal context: windows in the rolling statistics',
      intInRange('--context', 1, 120),
      d.context,
    )
    .option(
      '--smooth <N>',
      'half-life of the probability smoothing, windows (0 = none)',
      intInRange('--smooth', 0, 120),
      d.smooth,
    )
    .option(
      '--hold <N>',
      'windows the evidence must persist before the final label flips',
      intInRange('--hold', 1, 120),
      d.hold,
    )
    .option('--hysteresis <H>', 'margin around 0.5 the smoothed probability must cross to flip', fraction, d.hysteresis)
    .option('--absolute', 'also use absolute feature levels (default: when they carry over between the training calls)')
    .option('--no-absolute', 'never use absolute feature levels')
    .option(
      '--no-frame-regularity',
      'do not add the per-direction frame regularity, (1 + mean frame bytes) / (1 + frame-size CV)',
    )
    .option(
      '--no-shape-levels',
      "do not give the levels of the dimensionless burst CV and alternation (only their place in the call's own range)",
    )
    .option('--seed <N>', 'random seed (rf)', intInRange('--seed', 0, 2 ** 31 - 1), d.seed)
    .option('--trained-on <TEXT>', 'describe the training data in the model (default: the input file names)');
  addDataOptions(cmd);
  applyExitPolicy(cmd);
  cmd.action(async (files: string[], f: TrainFlags) => {
    const { model, data } = await withOutputs(dataInputs(files, f), [['-o', f.output]], async ([out]) => {
      const data = await readData(files, f, true);
      const o: TrainOptions = {
        algo: f.algo,
        l2: f.l2,
        trees: f.trees,
        maxDepth: f.maxDepth,
        minLeaf: f.minLeaf,
        seed: f.seed,
        context: f.context,
        smooth: f.smooth,
        hold: f.hold,
        hysteresis: f.hysteresis,
        absolute: f.absolute ?? 'auto',
        frameRegularity: f.frameRegularity,
        shapeLevels: f.shapeLevels,
      };
      const trainedOn = f.trainedOn ?? files.map((x) => path.basename(x)).join(', ');
      const bar = progress('training', o.algo === 'rf' ? o.trees : 1);
      const model = trainModel(data, o, trainedOn, (k) => bar.update(k));
      bar.stop();
      const transfer = model.training.levelTransfer;
      if (transfer !== null && transfer !== undefined) {
        errorLine(
          model.context.absolute
            ? `absolute levels used: they carry over between the training calls (transfer ${transfer.toFixed(2)} >= ${LEVELS_TRANSFER}; --no-absolute to drop them)`
            : `absolute levels not used: they do not carry over between the training calls (transfer ${transfer.toFixed(2)} < ${LEVELS_TRANSFER}; --absolute to force them)`,
        );
      }
      let cv: CvResult | undefined;
      if (f.cv >= 2) {
        const cvBar = progress('cross-validation', f.cv);
        cv = crossValidate(data, o, f.cv, (k) => cvBar.update(k));
        cvBar.stop();
        model.cv = cv.summary;
        for (const l of scoreLines(`cross-validation (${f.cv} contiguous folds)`, cv.summary.pooled)) errorLine(l);
      }
      if (f.learningCurve) {
        const k = Math.max(2, f.cv);
        const lcBar = progress('learning curve', k * LEARNING_FRACTIONS.length);
        model.learningCurve = learningCurve(data, o, k, (s) => lcBar.update(s), cv);
        lcBar.stop();
        for (const l of learningCurveLines(model.learningCurve)) errorLine(l);
      }
      out!.write(modelJson(model));
      return { model, data };
    });
    errorLine(
      `wrote ${f.output}: ${model.algorithm}, ${data.features.length} features, ${model.training.windows} labelled windows (${model.training.person} person, ${model.training.background} background) from ${data.sequences.length} sequence(s)`,
    );
  });
}
