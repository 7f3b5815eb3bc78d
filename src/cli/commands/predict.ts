import type { Command } from 'commander';
import { applyExitPolicy } from '../program';
import { addDataOptions, runModelOnFiles, type DataFlags } from '../data-options';
import { DEFAULT_MODEL_PATH, writePrivate } from '../../model/load';
import { predictionsCsv } from '../../model/predictions';

interface PredictFlags extends DataFlags {
  model: string;
  output?: string;
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command('predict')
    .description('per-window presence predictions for the calls in traces (or feature CSV/ARFF)')
    .argument('<TRACE...>', 'traces (pcap/pcapng), or CSV/ARFF files of window features')
    .option('--model <FILE>', 'presence model (default: the shipped one)', DEFAULT_MODEL_PATH)
    .option('-o, --output <OUT.csv>', 'write the predictions here (mode 0600) instead of stdout');
  addDataOptions(cmd);
  applyExitPolicy(cmd);
  cmd.action(async (files: string[], f: PredictFlags) => {
    const { data, runs } = await runModelOnFiles(f.model, files, f, false, 'predicting');
    const csv = predictionsCsv(
      runs,
      data.sequences.some((s) => s.labels.some((l) => l >= 0)),
    );
    if (f.output === undefined || f.output === '-') process.stdout.write(csv);
    else writePrivate(f.output, csv);
  });
}
