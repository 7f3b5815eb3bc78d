import type { Command } from 'commander';
import { applyExitPolicy, collect, intInRange } from '../program';
import { errorLine, usageError } from '../../util/errors';
import type { CallTrainInput } from '../../model/call-train';

interface TrainCallsFlags {
  flows?: string[];
  output: string;
  cv?: boolean;
  trees: number;
  seed: number;
  rules?: string;
  quiet?: boolean;
}

function percent(v: number): string {
  return Number.isNaN(v) ? 'n/a' : `${(v * 100).toFixed(1)} %`;
}

/**
 * spymate train-calls: the call classifier (rules/call-model.json) from labelled traces. Each
 * TRACE is paired in order with a --flows source: `rules` (the flows the rules name are the calls:
 * lab recordings), `none` (nothing in it is a call: recordings of other traffic), `all` (every
 * flow that reaches the classifier is a call: recordings of calls alone), or a file of
 * per-flow labels (nDPI's verdicts, or CSV protocol,srcIP,srcPort,desIP,desPort,label).
 */
export function registerTrainCalls(program: Command): void {
  const cmd = program
    .command('train-calls')
    .description('train the call classifier (for the flows no rule names) on traces with per-flow labels')
    .argument('<TRACE...>', 'pcap or pcapng traces (gzip allowed)')
    .option(
      '--flows <SOURCE>',
      "per trace, in order: 'rules', 'none', 'all', or a flow-labels file (nDPI verdicts or CSV); repeatable",
      (v: string, prev?: string[]) => collect(v, prev),
    )
    .requiredOption('-o, --output <MODEL>', 'where to write the call model (JSON, mode 0600)')
    .option('--cv', 'score it leave-one-capture-out first, and keep the scores in the model')
    .option('--trees <N>', 'trees in the forest', intInRange('--trees', 1, 1000), 60)
    .option('--seed <N>', 'random seed (same data and seed: same model)', intInRange('--seed', 0, 2 ** 31 - 1), 14)
    .option('--rules <FILE>', 'flow rules file or directory (default: the shipped rules/)')
    .option('-q, --quiet', 'no progress on stderr');
  applyExitPolicy(cmd);
  cmd.action(async (traces: string[], f: TrainCallsFlags) => {
    const flows = f.flows ?? [];
    if (flows.length !== traces.length) {
      throw usageError(
        `--flows gives ${flows.length} source(s) for ${traces.length} trace(s); give one per trace, in order ('rules', 'none', 'all' or a labels file)`,
      );
    }
    const [{ trainCallModel, readFlowLabels, DEFAULT_CALL_TRAIN }, { loadRules }, { withOutputs }, { spymateVersion }] =
      await Promise.all([
        import('../../model/call-train'),
        import('../../rules/load'),
        import('../../features/output'),
        import('../../rules/paths'),
      ]);
    const inputFiles = [
      ...traces.map((t) => ['trace', t] as const),
      ...flows.filter((s) => s !== 'rules' && s !== 'none' && s !== 'all').map((s) => ['--flows', s] as const),
    ];
    // the model file is opened first (a wrong path fails before the training) and put in place whole
    await withOutputs(inputFiles, [['-o', f.output]], async ([out]) => {
      const rules = loadRules(f.rules);
      const inputs = traces.map((file, i): CallTrainInput => {
        const s = flows[i];
        return {
          file,
          source: s === 'rules' || s === 'none' || s === 'all' ? s : { file: s, labels: readFlowLabels(s) },
        };
      });
      const say = (line: string) => {
        if (!f.quiet) errorLine(`spymate train-calls: ${line}`);
      };
      const m = await trainCallModel(
        inputs,
        rules,
        { ...DEFAULT_CALL_TRAIN, trees: f.trees, seed: f.seed },
        f.cv === true,
        `spymate ${spymateVersion()}`,
        say,
      );
      say(`${m.training.flows} flows, ${m.training.calls} calls (+${m.training.augmented} with headers blinded)`);
      if (m.cv) {
        const c = m.cv;
        say(
          `leave-one-capture-out over ${c.captures} captures: recall ${percent(c.recall)} of ${c.calls} calls, ` +
            `false positives ${percent(c.falsePositiveRate)} of ${c.others} other flows; ` +
            `flows no rule names: recall ${percent(c.unnamedRecall)} of ${c.unnamedCalls}, ` +
            `false positives ${percent(c.unnamedFalsePositiveRate)} of ${c.unnamedOthers}; ` +
            `calls with their headers blinded: recall ${percent(c.blindRecall)}`,
        );
      }
      out!.write(JSON.stringify(m) + '\n');
    });
  });
}
