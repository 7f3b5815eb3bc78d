import * as fs from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { parseLocal, type Cidr } from '../../flow/local';
import type { ExtractSummary } from '../../features/extract';
import type { PipelineSink } from '../../features/types';
import { errorLine, usageError, UserError } from '../../util/errors';
import { collect, intInRange, positiveNumber } from '../program';

// Defaults and formats are repeated from src/features (checked equal in test/features/extract-cli.test.ts)
// so that registering the command loads no pipeline code: every spymate command starts faster.
const DEFAULT_WINDOW_MS = 500;
const DEFAULT_IDLE_TIMEOUT_S = 30;
const DEFAULT_MAX_FLOWS = 100_000;
const OUTPUT_FORMATS = ['csv', 'ndjson', 'arff'] as const;
type OutputFormat = (typeof OUTPUT_FORMATS)[number];

interface ExtractOptions {
  labels?: string[];
  window: number;
  rules?: string;
  local?: string[];
  format?: OutputFormat;
  output?: string;
  timeout: number;
  maxFlows: number;
  quiet?: boolean;
  explain?: boolean;
  /** a file, or false for --no-call-model */
  callModel?: string | false;
}

function cidrOption(v: string): string {
  try {
    parseLocal(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}

function summaryLine(s: ExtractSummary): string {
  const plural = (n: number, w: string) => `${n} ${w}${n === 1 ? '' : 's'}`;
  const line = `${s.trace}: ${plural(s.packets, 'packet')}, ${plural(s.flows, 'flow')}, ${plural(s.calls, 'call')}, ${plural(s.windows, 'window')}`;
  return s.calls > 0 ? line : `${line} (no flow matched a call rule: see --rules and the rule files in rules/)`;
}

async function run(traces: string[], o: ExtractOptions): Promise<void> {
  const [
    { extractTrace },
    { loadLabels },
    { FdOutput, OutputClosed, refuseSameFile },
    { createWriter, formatFromPath },
    { loadRules },
    { ExplainWriter },
    { callClassifier, loadCallModel, DEFAULT_CALL_MODEL_PATH },
  ] = await Promise.all([
    import('../../features/extract'),
    import('../../features/labels'),
    import('../../features/output'),
    import('../../features/writers'),
    import('../../rules/load'),
    import('../../features/explain'),
    import('../../model/call-model'),
  ]);
  const labels = o.labels ?? [];
  if (labels.length > 0 && labels.length !== traces.length) {
    throw usageError(
      `--labels gives ${labels.length} file(s) for ${traces.length} trace(s); give one labels file per trace, in the same order`,
    );
  }
  const output = o.output ?? '-';
  const format = o.format ?? formatFromPath(output) ?? 'csv';
  const rules = loadRules(o.rules);
  const calls =
    o.callModel === false ? undefined : callClassifier(loadCallModel(o.callModel ?? DEFAULT_CALL_MODEL_PATH));
  const labelSets = labels.map(loadLabels);
  const local: Cidr[] = (o.local ?? []).map(parseLocal);
  for (const t of traces) {
    if (t !== '-' && !fs.existsSync(t)) throw new UserError(`${t}: no such trace file`);
  }

  if (output !== '-') {
    const inputs = [
      ...traces.filter((t) => t !== '-').map((t) => ['trace', t] as const),
      ...labels.map((l) => ['--labels', l] as const),
    ];
    refuseSameFile(output, '-o', inputs);
  }
  const out = FdOutput.open(output);
  let writer: { close(): void };
  let sink: PipelineSink;
  if (o.explain) {
    const ex = new ExplainWriter(out, format === 'ndjson');
    sink = {
      callStart: () => undefined,
      window: () => undefined,
      callEnd: () => undefined,
      verdict: (v) => ex.write(v),
    };
    writer = ex;
  } else {
    const w = createWriter(format, out, labelSets.length > 0);
    sink = { callStart: () => undefined, window: (r) => w.write(r), callEnd: () => undefined };
    writer = w;
  }
  try {
    for (const [i, trace] of traces.entries()) {
      const summary = await extractTrace(
        trace,
        {
          windowMs: o.window,
          rules,
          calls,
          local,
          idleTimeoutS: o.timeout,
          maxFlows: o.maxFlows,
          labels: labelSets[i],
        },
        sink,
      );
      for (const w of summary.warnings) errorLine(`spymate: warning: ${w}`);
      if (!o.quiet) errorLine(`spymate extract: ${summaryLine(summary)}`);
    }
  } catch (err) {
    // `spymate extract … | head`: the reader has what it wanted. Anything else: a half-written
    // output would pass for a result, so an existing file keeps its old content.
    if (!(err instanceof OutputClosed)) {
      out.abort();
      throw err;
    }
  }
  try {
    writer.close();
  } catch (err) {
    if (!(err instanceof OutputClosed)) throw err;
  }
}

export function registerExtract(program: Command): void {
  program
    .command('extract')
    .description('turn traces into per-window features of their video-call flows (CSV, NDJSON or ARFF)')
    .argument('<TRACE...>', 'pcap or pcapng traces (gzip allowed; - for stdin)')
    .option('--labels <FILE...>', 'ground truth per trace, in trace order (CSV start,end,label)')
    .option('--window <MS>', 'window length in ms, 100..900', intInRange('--window', 100, 900), DEFAULT_WINDOW_MS)
    .option('--rules <FILE>', 'flow rules file or directory (default: the shipped rules/)')
    .option(
      '--local <CIDR|ADDR:PORT>',
      'which side is ours (in/out direction): addresses, or one endpoint when both peers share an address; repeatable',
      (v: string, prev?: string[]) => collect(cidrOption(v), prev),
    )
    .addOption(
      new Option('--format <FORMAT>', "output format (default: from -o's extension, else csv)").choices(OUTPUT_FORMATS),
    )
    .option('-o, --output <FILE>', 'output file (default: stdout, also -)')
    .option(
      '--timeout <S>',
      'seconds without packets before a flow is forgotten',
      positiveNumber('--timeout'),
      DEFAULT_IDLE_TIMEOUT_S,
    )
    .option(
      '--max-flows <N>',
      'flow table cap (the idlest flow is evicted beyond it)',
      intInRange('--max-flows', 1, 10_000_000),
      DEFAULT_MAX_FLOWS,
    )
    .option('-q, --quiet', 'no summary line on stderr')
    .option('--call-model <FILE>', 'call classifier for the flows no rule names (default: the shipped one)')
    .option('--no-call-model', 'rules only: no call classifier')
    .option(
      '--explain',
      'instead of window features: every flow with its verdict and why (rule file:line, classifier score, or the rejection)',
    )
    .action(async (traces: string[], o: ExtractOptions) => run(traces, o));
}
