import type { Command } from 'commander';
import { applyExitPolicy } from '../program';
import { addDataOptions, dataInputs, runModelOnFiles, type DataFlags } from '../data-options';
import { DEFAULT_MODEL_PATH } from '../../model/load';
import { withOutputs } from '../../features/output';
import { predictionsCsv } from '../../model/predictions';

interface PredictFlags extends DataFlags {
  model?: string;
  output?: string;
}

export function registerPredict(program: Command): void {
  const cmd = program
    .command('predict')
    .description('per-window presence predictions for the calls in traces (or feature CSV/ARFF)')
    .argument('<TRACE...>', 'traces (pcap/pcapng), or CSV/ARFF files of window features')
    .option('--model <FILE>', 'presence model (default: the shipped one)')
    .option('-o, --output <OUT.csv>', 'write the predictions here (mode 0600) instead of stdout');
  addDataOptions(cmd);
  applyExitPolicy(cmd);
  cmd.action(async (files: string[], f: PredictFlags) => {
    const modelFile = f.model ?? DEFAULT_MODEL_PATH;
    await withOutputs(dataInputs(files, f, modelFile), [['-o', f.output ?? '-']], async ([out]) => {
      const { data, runs } = await runModelOnFiles(modelFile, files, f, false, 'predicting', 'both');
      out!.write(
        predictionsCsv(
          runs,
          data.sequences.some((s) => s.labels.some((l) => l >= 0)),
        ),
      );
    });
  });
}
