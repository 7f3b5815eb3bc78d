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
import { parseLocal } from '../flow/local';
import { formatColumnList, resolveColumns } from '../tui/columns';
import { parsePattern } from '../tui/filter';
import type { SourceSpec } from '../monitor/meter-worker';
import { defaultDbPath } from '../store/paths';
import { Monitor, type MonitorSummary } from '../monitor/monitor';
import { errorLine, EXIT_RUNTIME, runMain, UserError, usageError } from '../util/errors';
import { dropPrivileges, invokingUser } from '../capture/privileges';
import { releaseDeadTerminal } from '../util/terminal';
import { refuseSameFile } from '../features/output';
import { dbFiles } from '../store/migrate';
import type { MeterStats } from '../store/types';
import { plural } from '../util/plural';
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
// cap asks libpcap for 64 KiB frames (its snaplen): 128 MiB holds 2 048 packets, ~20 ms at 100 k/s, the
// least that rode out a busy machine's stalls in 5 of 5 bench runs (64 MiB: drops in 3 of 5; docs/monitor.md "Drops")
const DEFAULT_BUFFER_MIB = 128;

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

/** What commander hands over: the options without a default may be missing. */
type Given = Omit<Opts, 'bpf' | 'filter' | 'local' | 'columns'> &
  Partial<Pick<Opts, 'bpf' | 'filter' | 'local' | 'columns'>>;

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
  // no source: the view over PostgreSQL (--store), or an SQLite file's history (--db alone)
  if (sources === 0 && o.store === undefined && (o.db === undefined || o.headless))
    throw usageError(
      'give a source: -i IFACE (live), -f TRACE (replay) or --records FILE; or --db FILE alone to browse it (see --help)',
    );
  if (sources > 1) throw usageError('give only one source: -i IFACE, -f TRACE or --records FILE');
  if (o.speed !== 1 && !o.file) throw usageError('--speed applies to -f TRACE only');
  if (o.bpf && !o.interface)
    throw usageError('--bpf applies to -i IFACE only (filter a trace with tcpdump -r T -w OUT EXPR)');
  for (const c of o.local) {
    try {
      parseLocal(c);
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

/**
 * --out must be none of the files the run reads or keeps: appending records to the trace, the
 * saved records or the database itself would destroy them.
 */
function checkOutIsNoInput(o: Opts, dbPath: string): void {
  if (!o.out) return;
  const inputs: Array<readonly [string, string]> = o.store
    ? []
    : [...[...dbFiles(dbPath), `${dbPath}-lock`].map((f) => ['--db', f] as const)];
  if (o.file) inputs.push(['-f', o.file]);
  if (o.records) inputs.push(['--records', o.records]);
  if (o.model) inputs.push(['--model', o.model]);
  refuseSameFile(o.out, '--out', inputs);
}

function summaryLine(s: MonitorSummary): string {
  const m = s.meter;
  const rate = s.seconds > 0 ? Math.round(s.filter.records / s.seconds) : 0;
  return (
    `spymate-tui: ${plural(m.packets, 'packet')}, ${dropsText(m)}, ${plural(m.flows, 'flow')}, ` +
    `${plural(m.calls, 'call')}, ${plural(m.windows, 'window')}, ${plural(s.filter.records, 'record')} ` +
    `(${rate} records/s) in ${s.seconds.toFixed(1)} s`
  );
}

/** Packets not processed, with their causes when there are any (live). */
function dropsText(m: MeterStats): string {
  const causes = [
    m.dropsKernel === null ? 'kernel ring: unknown' : m.dropsKernel ? `kernel ring ${m.dropsKernel}` : '',
    m.dropsInterface ? `interface ${m.dropsInterface}` : '',
    m.dropsMeter ? `spymate's queue ${m.dropsMeter}` : '',
  ].filter(Boolean);
  return `${m.drops} dropped${causes.length ? ` (${causes.join(', ')})` : ''}`;
}

async function main(argv: string[]): Promise<number> {
  const program = newProgram('spymate-tui', 'Live monitor of video calls and of whether a person is on camera.')
    .usage('[-i IFACE | -f TRACE | --records FILE | --db FILE] [options] [COLUMN...]')
    .argument(
      '[COLUMN...]',
      'columns to show: numbers (0-14 = Skype Traffic Detector Table VI) or names; see --list-columns',
    )
    .option('-i, --interface <IFACE>', 'live capture (root, or CAP_NET_RAW+CAP_NET_ADMIN)')
    .option('-f, --file <TRACE>', 'replay a pcap or pcapng trace')
    .option('--records <FILE>', 'show saved classified records (NDJSON written by --out)')
    .option('--speed <N|max>', 'replay speed for -f (1 = real time)', parseSpeed, 1)
    .option('--bpf <EXPR>', 'libpcap filter expression (live)')
    .option('--rules <FILE>', 'flow rules (default: the shipped rules/)')
    .option('--model <FILE>', 'presence model (default: the shipped model)')
    .option(
      '--call-model <FILE>',
      'call classifier for the flows no rule names (default: the shipped rules/call-model.json)',
    )
    .option(
      '--db <FILE>',
      `SQLite database file (default: ${defaultDbPath()}); alone, without a source: show every run's calls in it`,
    )
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
    )
    .option(
      '--local <CIDR|ADDR:PORT>',
      'which side is ours (in/out direction): addresses, or one endpoint when both peers share an address; repeatable',
      collect,
    )
    .option('--out <FILE>', 'also append every classified record to FILE as NDJSON')
    .option('--headless', 'no UI: NDJSON records on stdout')
    .option('--list-columns', 'list the columns and exit')
    .option('--columns <LIST>', 'columns to show, comma-separated (as COLUMN...)', (v: string, prev: string[] = []) =>
      prev.concat(
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
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
  program.action(async (positional: string[], given: Given) => {
    // repeatable options and --bpf have no default in the help: an empty one says nothing
    const o: Opts = {
      ...given,
      bpf: given.bpf ?? '',
      filter: given.filter ?? [],
      local: given.local ?? [],
      columns: given.columns ?? [],
    };
    if (o.listColumns) {
      process.stdout.write(formatColumnList() + '\n');
      return;
    }
    // A replay, or the view, needs no privilege at all: become the invoking user before anything is
    // opened. Live capture stays root until the device is open (Monitor.start).
    const user = o.interface === undefined ? invokingUser() : null;
    if (user) dropPrivileges(user);
    checkUsage(o, positional, (key) => program.getOptionValueSource(key) === 'cli');
    const hasSource = o.interface !== undefined || o.file !== undefined || o.records !== undefined;
    code = isView(o, hasSource) ? await view(o, positional) : await run(o, positional);
  });
  await parseProgram(program, argv);
  return code;
}

/** `spymate-tui --db FILE` with no source: the UI over every run's rows in FILE, no engine. */
async function browse(o: Opts, positional: string[]): Promise<number> {
  const dbPath = path.resolve(o.db as string);
  for (const [flag, given] of [
    ['--out', o.out !== undefined],
    ['--speed', o.speed !== 1],
    ['--bpf', o.bpf !== ''],
    ['--local', o.local.length > 0],
  ] as const) {
    if (given) throw usageError(`${flag} needs a source (-i, -f or --records); --db alone only shows what FILE holds`);
  }
  if (!fs.existsSync(dbPath)) throw usageError(`--db ${dbPath}: no such database (give a source to fill it)`);
  const { startTui } = await import('../tui/app');
  await startTui({
    dbPath,
    refreshS: o.refresh,
    columns: [...positional, ...o.columns],
    filters: o.filter,
    sourceLabel: `db:${dbPath}`,
    run: null,
    labelsPath: null,
    modelName: path.basename(o.model ?? 'none'),
  });
  return 0;
}

async function run(o: Opts, positional: string[]): Promise<number> {
  if (!o.interface && !o.file && !o.records) return browse(o, positional);
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
  checkOutIsNoInput(o, dbPath);
  // Live labels go next to the --out records; without --out the UI creates ./spymate-labels.csv at
  // the first mark (docs/tui.md, "Live labelling"), as the invoking user.
  const labelsPath = outPath && !o.headless ? outPath.replace(/(\.ndjson|\.jsonl?)?$/, '.labels.csv') : null;
  const modelName = path.basename(modelPath ?? (fs.existsSync(DEFAULT_MODEL_PATH) ? DEFAULT_MODEL_PATH : 'none'));
  const pg = sensorSpec(o, true);
  const monitor = new Monitor({
    source,
    sourceLabel,
    dbPath,
    pg,
    ipfix: ipfixSpec(o),
    outPath,
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
    createDbDir: o.db === undefined,
    warn: (line) => {
      if (line) errorLine(`spymate-tui: warning: ${line}`);
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
  // the terminal went away (a closed ssh, tmux kill-session): end as with q, records flushed
  process.on('SIGHUP', onSignal);

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
          run: monitor.run,
          labelsPath,
          modelName,
        });
      } finally {
        monitor.stop();
      }
    }
  }
  const summary = await monitor.done;
  if (started) errorLine(summaryLine(summary));
  const storeLabel = pg ? parsePgUrl(pg.url).display : dbPath;
  for (const line of hostSummaryLines(summary.store, storeLabel, summary.ipfix)) errorLine(`spymate-tui: ${line}`);
  if (summary.filter.notStored > 0) {
    errorLine(
      `spymate-tui: ${summary.filter.notStored} records were not stored in ${storeLabel}; ` +
        `they are in the NDJSON output${outPath ? ` (${outPath})` : o.headless ? ' (stdout)' : ''}`,
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
    run: null,
    labelsPath: null,
    modelName: '-',
  });
  return 0;
}

process.on('exit', releaseDeadTerminal);
runMain('spymate-tui', () => main(process.argv));
