#!/usr/bin/env node
/**
 * spymate-tui: the live monitor. A source (-i IFACE | -f TRACE | --records FILE) runs through the
 * meter worker and the filter thread into SQLite; the terminal UI reads it, or --headless streams
 * the NDJSON records on stdout. Contract: docs/design.md, "Command lines".
 */
import fs from 'node:fs';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { DEFAULT_MODEL_PATH } from '../model/load';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS, DEFAULT_WINDOW_MS } from '../features/pipeline';
import { parseCidr } from '../flow/local';
import { formatColumnList, resolveColumns } from '../tui/columns';
import { createLabelsFile } from '../tui/labels';
import { parsePattern } from '../tui/filter';
import type { SourceSpec } from '../monitor/meter-worker';
import { defaultDbPath } from '../store/paths';
import { Monitor, type MonitorSummary } from '../monitor/monitor';
import { EXIT_RUNTIME, runMain, UserError, usageError } from '../util/errors';
import { collect, intInRange, newProgram, parseProgram, positiveNumber } from './program';
import { parsePgUrl } from '../store/pg/target';
import {
  addHostOptions,
  checkHostUsage,
  hostSummaryLines,
  ipfixSpec,
  isView,
  sensorSpec,
  type HostOpts,
} from './many-hosts';

const DEFAULT_KEEP_S = 60;
const DEFAULT_BUFFER_MIB = 32;

interface Opts extends HostOpts {
  interface?: string;
  file?: string;
  records?: string;
  speed: number;
  bpf: string;
  rules?: string;
  model?: string;
  callModel?: string;
  db?: string;
  window: number;
  timeout: number;
  keep: number;
  refresh: number;
  filter: string[];
  local: string[];
  out?: string;
  headless?: boolean;
  listColumns?: boolean;
  columns: string[];
  bufferSize: number;
  powerSave?: boolean;
  maxFlows: number;
}

/** 'max' is Infinity: commander treats a parser's null as "no value". */
function parseSpeed(v: string): number {
  if (v === 'max') return Infinity;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new InvalidArgumentError(`--speed must be a positive number or 'max', got '${v}'`);
  return n;
}

function nonNegative(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${name} must be a number ≥ 0, got '${v}'`);
    return n;
  };
}

/** Validates what can be validated before any thread starts: usage errors exit 2 and touch nothing. */
function checkUsage(o: Opts, positional: string[], given: (key: keyof HostOpts) => boolean): void {
  const sources = [o.interface, o.file, o.records].filter((s) => s !== undefined).length;
  if (sources === 0 && o.store === undefined)
    throw usageError('give a source: -i IFACE (live), -f TRACE (replay) or --records FILE (see --help)');
  if (sources > 1) throw usageError('give only one source: -i IFACE, -f TRACE or --records FILE');
  if (o.speed !== 1 && !o.file) throw usageError('--speed applies to -f TRACE only');
  if (o.bpf && !o.interface)
    throw usageError('--bpf applies to -i IFACE only (filter a trace with tcpdump -r T -w OUT EXPR)');
  for (const c of o.local) {
    try {
      parseCidr(c);
    } catch (err) {
      throw usageError(`--local: ${(err as Error).message}`);
    }
  }
  for (const f of o.filter) {
    try {
      parsePattern(f, o.store !== undefined);
    } catch (err) {
      throw usageError(`--filter: ${(err as Error).message}`);
    }
  }
  checkHostUsage(o, sources > 0, given);
  resolveColumns([...positional, ...o.columns], o.store !== undefined);
  if (!o.headless && !process.stdout.isTTY) {
    throw usageError(
      'stdout is not a terminal: add --headless for NDJSON records on stdout (or run in a terminal for the UI)',
    );
  }
  // checked here too, not only when the UI starts: by then the engine has made the database
  if (!o.headless && !process.stdin.isTTY) {
    throw usageError('stdin is not a terminal: the UI reads keys from it; add --headless for NDJSON records on stdout');
  }
  for (const [flag, p] of [
    ['--rules', o.rules],
    ['--model', o.model],
    ['--call-model', o.callModel],
  ] as const) {
    if (p !== undefined && !fs.existsSync(p)) throw usageError(`${flag} ${p}: no such file`);
  }
}

/** Directories that do not exist yet on the way to `file`, outermost first. */
function missingDirs(file: string): string[] {
  const dirs: string[] = [];
  for (let d = path.dirname(path.resolve(file)); !fs.existsSync(d); d = path.dirname(d)) dirs.unshift(d);
  return dirs;
}

function summaryLine(s: MonitorSummary): string {
  const m = s.meter;
  const rate = s.seconds > 0 ? Math.round(s.filter.records / s.seconds) : 0;
  return (
    `spymate-tui: ${m.packets} packets, ${m.drops} dropped, ${m.flows} flows, ${m.calls} calls, ` +
    `${m.windows} windows, ${s.filter.records} records (${rate} records/s) in ${s.seconds.toFixed(1)} s`
  );
}

async function main(argv: string[]): Promise<number> {
  const program = newProgram('spymate-tui', 'Live monitor of video calls and of whether a person is on camera.')
    .usage('[-i IFACE | -f TRACE | --records FILE] [options] [COLUMN...]')
    .argument(
      '[COLUMN...]',
      'columns to show: numbers (0-14 = Skype Traffic Detector Table VI) or names; see --list-columns',
    )
    .option('-i, --interface <IFACE>', 'live capture (root, or CAP_NET_RAW+CAP_NET_ADMIN)')
    .option('-f, --file <TRACE>', 'replay a pcap or pcapng trace')
    .option('--records <FILE>', 'show saved classified records (NDJSON written by --out)')
    .option('--speed <N|max>', 'replay speed for -f (1 = real time)', parseSpeed, 1)
    .option('--bpf <EXPR>', 'libpcap filter expression (live)', '')
    .option('--rules <FILE>', 'flow rules (default: the shipped rules/)')
    .option('--model <FILE>', 'presence model (default: the shipped model)')
    .option(
      '--call-model <FILE>',
      'call classifier for the flows no rule names (default: the shipped rules/call-model.json)',
    )
    .option('--db <FILE>', `SQLite database file (default: ${defaultDbPath()})`)
    .option('--window <MS>', 'window length in ms, 100..900', intInRange('--window', 100, 900), DEFAULT_WINDOW_MS)
    .option(
      '--timeout <S>',
      'seconds without packets before a flow record times out',
      positiveNumber('--timeout'),
      DEFAULT_IDLE_TIMEOUT_S,
    )
    .option('--keep <S>', 'seconds an ended flow record stays in the live table', nonNegative('--keep'), DEFAULT_KEEP_S)
    .option('--refresh <S>', 'UI refresh interval in seconds', positiveNumber('--refresh'), 1)
    .option(
      '--filter <PATTERN>',
      'preset IP filter, repeatable: 24.62.*  10.0.0.0/8  2001:db8::/32  192.168.1.15',
      collect,
      [],
    )
    .option('--local <CIDR>', 'addresses that are ours (in/out direction); repeatable', collect, [])
    .option('--out <FILE>', 'also append every classified record to FILE as NDJSON')
    .option('--headless', 'no UI: NDJSON records on stdout')
    .option('--list-columns', 'list the columns and exit')
    .option(
      '--columns <LIST>',
      'columns to show, comma-separated (as COLUMN...)',
      (v: string, prev: string[] = []) =>
        prev.concat(
          v
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
        ),
      [],
    )
    .option(
      '--buffer-size <MIB>',
      'libpcap capture buffer in MiB (live)',
      intInRange('--buffer-size', 1, 4096),
      DEFAULT_BUFFER_MIB,
    )
    .option(
      '--power-save',
      'let the CPUs sleep deeply while capturing (live): less power, packet stamps lag by tens of µs',
    )
    .option(
      '--max-flows <N>',
      'flow table cap; beyond it the idlest flow is evicted',
      intInRange('--max-flows', 1000, 10_000_000),
      DEFAULT_MAX_FLOWS,
    )
    .addHelpText('after', `\nExit codes: 0 ok, 1 runtime failure, 2 usage error. Records: NDJSON, see docs/design.md.`);

  addHostOptions(program);
  let code = 0;
  program.action(async (positional: string[], o: Opts) => {
    if (o.listColumns) {
      process.stdout.write(formatColumnList() + '\n');
      return;
    }
    checkUsage(o, positional, (key) => program.getOptionValueSource(key) === 'cli');
    const hasSource = o.interface !== undefined || o.file !== undefined || o.records !== undefined;
    code = isView(o, hasSource) ? await view(o, positional) : await run(o, positional);
  });
  await parseProgram(program, argv);
  return code;
}

async function run(o: Opts, positional: string[]): Promise<number> {
  const dbPath = path.resolve(o.db ?? defaultDbPath());
  const outPath = o.out ? path.resolve(o.out) : null;
  let source: SourceSpec;
  let sourceLabel: string;
  if (o.interface) {
    source = {
      kind: 'live',
      iface: o.interface,
      bpf: o.bpf,
      bufferSize: o.bufferSize * 1024 * 1024,
      dropTo: null,
      powerSave: !!o.powerSave,
    };
    sourceLabel = `iface:${o.interface}`;
  } else if (o.file) {
    source = { kind: 'file', path: path.resolve(o.file), speed: Number.isFinite(o.speed) ? o.speed : null };
    sourceLabel = `file:${path.resolve(o.file)}`;
  } else {
    source = { kind: 'records', path: path.resolve(o.records!) };
    sourceLabel = `records:${path.resolve(o.records!)}`;
  }
  const modelPath = o.model ? path.resolve(o.model) : null;
  // Live labels go next to the --out records. As root that file is made now, before the monitor
  // drops to the invoking user, who could not create it in a root-owned directory later. Without
  // --out the UI creates ./spymate-labels.csv at the first mark (docs/tui.md, "Live labelling").
  const labelsPath = outPath && !o.headless ? outPath.replace(/(\.ndjson|\.jsonl?)?$/, '.labels.csv') : null;
  if (labelsPath && process.getuid?.() === 0) createLabelsFile(labelsPath);
  const modelName = path.basename(modelPath ?? (fs.existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : 'none'));
  const pg = sensorSpec(o, true);
  const monitor = new Monitor({
    source,
    sourceLabel,
    dbPath,
    pg,
    ipfix: ipfixSpec(o),
    outPath,
    labelsPath,
    headless: !!o.headless,
    windowMs: o.window,
    rulesPath: o.rules ? path.resolve(o.rules) : null,
    modelPath,
    callModelPath: o.callModel ? path.resolve(o.callModel) : null,
    modelName,
    local: o.local,
    timeoutS: o.timeout,
    keepS: o.keep,
    maxFlows: o.maxFlows,
    readsDb: !o.headless,
    createdDirs: missingDirs(dbPath),
    warn: (line) => {
      if (line) process.stderr.write(`spymate-tui: warning: ${line}\n`);
    },
  });

  let signals = 0;
  const onSignal = (): void => {
    // First signal: stop the source and flush every classified record; a second one: leave now.
    if (++signals > 1) process.exit(EXIT_RUNTIME);
    monitor.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const started = await monitor.start();
  if (started) {
    if (!o.headless) {
      // Loaded only for the UI: --headless runs without blessed in memory.
      const { startTui } = await import('../tui/app');
      try {
        await startTui({
          dbPath,
          store: o.store ?? null,
          refreshS: o.refresh,
          columns: [...positional, ...o.columns],
          filters: o.filter,
          sourceLabel,
          labelsPath,
          modelName,
        });
      } finally {
        monitor.stop();
      }
    }
  }
  const summary = await monitor.done;
  if (started) process.stderr.write(summaryLine(summary) + '\n');
  const storeLabel = pg ? parsePgUrl(pg.url).display : dbPath;
  for (const line of hostSummaryLines(summary.store, storeLabel, summary.ipfix)) {
    process.stderr.write(`spymate-tui: ${line}\n`);
  }
  if (summary.filter.notStored > 0) {
    process.stderr.write(
      `spymate-tui: ${summary.filter.notStored} records were not stored in ${storeLabel}; ` +
        `they are in the NDJSON output${outPath ? ` (${outPath})` : o.headless ? ' (stdout)' : ''}\n`,
    );
  }
  if (summary.failure) throw new UserError(summary.failure.line, summary.failure.code);
  return 0;
}

/** --store without a source: the terminal UI over every sensor's flows, read-only. */
async function view(o: Opts, positional: string[]): Promise<number> {
  const { startTui } = await import('../tui/app');
  await startTui({
    dbPath: '',
    store: o.store ?? null,
    refreshS: o.refresh,
    columns: [...positional, ...o.columns],
    filters: o.filter,
    sourceLabel: parsePgUrl(o.store as string).display,
    labelsPath: null,
    modelName: '-',
  });
  return 0;
}

runMain('spymate-tui', () => main(process.argv));
