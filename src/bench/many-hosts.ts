/**
 * Many capture hosts (docs/many-hosts.md): records/s into PostgreSQL from one sensor and from four
 * at once (the filter thread as the meter feeds it, NDJSON to a file, every record delivered and
 * committed by a cluster with PostgreSQL's durable defaults, made here with initdb); the IPFIX
 * exporter's CPU per record; the view's refresh with 4 sensors x 2500 flows.
 * Everything runs on this one machine: the server, the sensors and the view share its cores.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { Client } from 'pg';
import { FEATURE_NAMES } from '../features/names';
import { IpfixExporter } from '../export/ipfix-exporter';
import type { FilterMessage, FilterThreadData } from '../monitor/filter-thread';
import { BatchBuilder, type SealedBatch } from '../store/batch';
import { quotedKeys } from '../store/ndjson';
import { storeRun } from '../testkit/sensors';
import { parsePgUrl } from '../store/pg/target';
import { PgView } from '../store/pg/view';
import type { LiveRecord } from '../store/types';
import { pgBinDir, startCluster, type PgCluster } from '../testkit/postgres';
import { STATS, startRec, windowRec } from '../testkit/records';
import { resolveColumns } from '../tui/columns';
import { RemoteReader } from '../tui/remote-reader';
import { renderScreen } from '../tui/render';
import { Session } from '../tui/session';
import { projectRootFromBench, type BenchContext, type BenchSection } from './bench';

const BATCH = 512;
const T0 = 1_700_000_000;
const RUNS = 30;
/** runs of each PostgreSQL measure: the machine's noise is ±20 % between runs */
const SAMPLES = 5;

/** `total` windows over `flows` flows, sealed as the meter seals them. */
function batches(total: number, flows: number): SealedBatch[] {
  const out: SealedBatch[] = [];
  const builder = new BatchBuilder(quotedKeys(FEATURE_NAMES), BATCH);
  for (let i = 0; i < total; i += BATCH) {
    for (let k = i; k < Math.min(total, i + BATCH); k++) {
      builder.add(windowRec(`flow${k % flows}`, T0 + Math.floor(k / flows) * 0.5, 40 + (k % 30), k % 3 === 0));
    }
    out.push(builder.seal(T0 + Math.floor(i / flows) * 0.5, T0, STATS, i + BATCH >= total));
  }
  return out;
}

/**
 * One sensor's filter thread, fed its batches at once: the wall-clock span from the first batch
 * (once `gate` lets it start, when given) until all is committed, and the process's CPU in it.
 * Without `pg`, the filter thread into SQLite (the default store), for comparison.
 */
async function sensor(
  root: string,
  dir: string,
  pg: Pick<PgCluster, 'url'> | null,
  name: string,
  total: number,
  gate?: () => Promise<void>,
): Promise<Span> {
  const { port1, port2 } = new MessageChannel();
  const data: FilterThreadData = {
    createDbDir: false,
    dbPath: path.join(dir, `${name}.db`),
    outPath: path.join(dir, `${name}.ndjson`),
    headless: false,
    timeoutS: 30,
    keepS: 60,
    featureNames: [...FEATURE_NAMES],
    run: { source: 'bench', model: 'none', windowMs: 500 },
    // room for the whole burst: this measures the server, not the spool file
    pg: pg && {
      url: pg.url,
      sensor: name,
      memoryBytes: 2 * 1024 ** 3,
      diskBytes: 0,
      spoolDir: dir,
      drainMs: 600_000,
    },
    ipfix: null,
    port: port2,
  };
  const w = new Worker(path.join(root, 'dist/src/monitor/filter-thread.js'), {
    workerData: data,
    transferList: [port2],
  });
  const input = batches(total, 1000);
  await new Promise<void>((resolve, reject) => {
    w.on('message', (m: FilterMessage) => {
      if (m.kind === 'ready') resolve();
      else if (m.kind === 'error') reject(new Error(m.line));
    });
    w.on('error', reject);
  });
  await gate?.();
  const start = Date.now();
  const cpu0 = process.cpuUsage();
  const done = new Promise<void>((resolve, reject) => {
    w.on('message', (m: FilterMessage) => {
      if (m.kind === 'done') {
        if (m.store && m.store.delivered !== total) reject(new Error(`${m.store.delivered} of ${total} stored`));
        else resolve();
      } else if (m.kind === 'error') reject(new Error(m.line));
    });
  });
  for (const b of input) port1.postMessage(b.batch, b.transfer);
  await done;
  const end = Date.now();
  const cpu = process.cpuUsage(cpu0);
  await w.terminate();
  return { start, end, cpuUs: cpu.user + cpu.system };
}

/**
 * Removes a run's outputs. Left there, the 85-150 MB of NDJSON each run writes went to disk during
 * the runs after it, in the kernel's writeback on the same two cores: four sensors at once gave
 * 91 000-116 000 records/s with them and 125 000-141 000 without.
 */
function emptyDir(dir: string): void {
  for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true, force: true });
}

/** wall-clock span of the work, and the sensor process's CPU in it (all its threads) */
interface Span {
  start: number;
  end: number;
  cpuUs: number;
}

/** Runs `queries` in order on the database at `url`: the first column of the last one's first row, as a number. */
async function sqlOn(url: string, queries: string[]): Promise<number> {
  const client = new Client(parsePgUrl(url).config);
  await client.connect();
  try {
    let last: unknown = null;
    for (const q of queries) last = Object.values((await client.query(q)).rows[0] ?? {})[0];
    return Number(last);
  } finally {
    await client.end();
  }
}

const seconds = (span: { start: number; end: number }): number => (span.end - span.start) / 1000;

/**
 * Sensors as separate processes, as on real capture hosts, starting together: the span from the
 * first one's start to the last one's end. Each says `ready` once its batches are built and its
 * filter thread connected, and all are told to go when the last is: none builds while others run.
 * (Four filter threads in one process took about four times the CPU per record of one, which no
 * sensor host would see.)
 */
async function sensorProcesses(
  dir: string,
  url: string,
  names: string[],
  total: number,
  onGo: () => void,
): Promise<Span> {
  let waiting = names.length;
  const children: ChildProcess[] = [];
  const spans = await Promise.all(
    names.map(
      (name) =>
        new Promise<Span>((resolve, reject) => {
          const c = spawn(process.execPath, [__filename, SENSOR_CHILD, url, name, String(total), dir], {
            stdio: ['pipe', 'pipe', 'inherit'],
          });
          children.push(c);
          let out = '';
          c.stdout.on('data', (d: Buffer) => {
            out += d;
            if (out.startsWith(READY)) {
              out = out.slice(READY.length);
              if (--waiting === 0) {
                onGo();
                for (const child of children) child.stdin?.end(GO);
              }
            }
          });
          c.on('close', (code) => {
            if (code === 0) resolve(JSON.parse(out) as Span);
            else reject(new Error(`sensor ${name} exited with ${code}`));
          });
        }),
    ),
  );
  return {
    start: Math.min(...spans.map((s) => s.start)),
    end: Math.max(...spans.map((s) => s.end)),
    cpuUs: spans.reduce((n, s) => n + s.cpuUs, 0),
  };
}

const SENSOR_CHILD = '--sensor-child';
const READY = 'ready\n';
const GO = 'go\n';

// `node many-hosts.js --sensor-child URL NAME TOTAL DIR`: one sensor of sensorProcesses
if (require.main === module && process.argv[2] === SENSOR_CHILD) {
  const [url, name, total, dir] = process.argv.slice(3);
  const gate = (): Promise<void> =>
    new Promise((go) => {
      process.stdin.once('data', () => go());
      process.stdout.write(READY);
    });
  sensor(projectRootFromBench(), dir, { url }, name, Number(total), gate).then(
    (span) => {
      process.stdout.write(JSON.stringify(span));
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`sensor ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}

/** CPU of the exporter per window record it takes, and per IPFIX record it sends, to a local UDP sink. */
async function ipfixCost(ctx: BenchContext, intervalS: number): Promise<void> {
  const sink = dgram.createSocket('udp4');
  await new Promise<void>((r) => sink.bind(0, '127.0.0.1', r));
  const exporter = await IpfixExporter.open({
    url: `udp://127.0.0.1:${sink.address().port}`,
    intervalS,
    pen: 32473,
    domain: 1,
    warn: () => undefined,
  });
  const flows = 1000;
  const records: LiveRecord[] = [];
  for (let f = 0; f < flows; f++) records.push(startRec(`flow${f}`, T0));
  for (let k = 0; k < 200_000; k++)
    records.push(windowRec(`flow${k % flows}`, T0 + Math.floor(k / flows) * 0.5, 40, true));
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < records.length; i += BATCH) exporter.add(records.slice(i, i + BATCH));
  const c = process.cpuUsage(c0);
  const wall = performance.now() - t0;
  const report = await exporter.close();
  sink.close();
  const cpuUs = c.user + c.system;
  const every = `--ipfix-interval ${intervalS}: a report every ${intervalS * 2} windows of a call`;
  ctx.report(
    'IPFIX exporter, per window record taken',
    (cpuUs * 1000) / records.length,
    'ns CPU',
    `${every}, ${(wall / 1000).toFixed(2)} s wall`,
  );
  ctx.report(
    '  per IPFIX record sent',
    cpuUs / report.records,
    'µs CPU',
    `${report.records} records in ${report.messages} datagrams`,
  );
}

/** The view over 4 sensors x 2500 live flows: round trip, UI update and render model, per refresh. */
async function viewRefresh(ctx: BenchContext, pg: PgCluster, dir: string): Promise<void> {
  // a database of its own: only these four sensors
  pg.psql('CREATE DATABASE view');
  const url = pg.url.replace(/\/spymate$/, '/view');
  for (let s = 0; s < 4; s++) {
    const recs: LiveRecord[] = [];
    for (let f = 0; f < 2500; f++) {
      recs.push(startRec(`call${f}`, T0 + f / 100));
      for (let k = 0; k < 4; k++)
        recs.push(windowRec(`call${f}`, T0 + 30 + k * 0.5, 10 + ((f * 7 + s) % 90), f % 2 === 0));
    }
    // one long call, for the selected row's sparkline
    for (let k = 0; k < 240; k++) recs.push(windowRec('call0', T0 + 40 + k * 0.5, 120, k % 3 === 0));
    await storeRun(url, `view${s}`, recs, T0 + 200, { timeoutS: 1e6 });
  }
  const reader = new RemoteReader(new PgView(parsePgUrl(url)), 1, () => undefined, 'bench');
  const session = new Session(
    reader,
    {
      width: 160,
      height: 45,
      color: true,
      dim: true,
      unicode: true,
      refreshS: 1,
      sourceLabel: 'bench',
      run: null,
      modelName: 'bench',
      labelsPath: path.join(dir, 'labels.csv'),
      columns: resolveColumns([], true),
      patterns: [],
      sensors: true,
    },
    () => undefined,
  );
  const times: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t0 = performance.now();
    await reader.sync();
    session.refresh();
    renderScreen(session.state);
    if (i > 1) times.push(performance.now() - t0); // the first rounds learn the query and the rows on screen
  }
  if (session.state.snapshot.total !== 10_000 || session.state.rows.size === 0) {
    throw new Error(`the view showed ${session.state.snapshot.total} flows and ${session.state.rows.size} rows`);
  }
  reader.close();
  times.sort((a, b) => a - b);
  ctx.report(
    'view refresh, 4 sensors x 2500 flows (median)',
    times[Math.floor(times.length / 2)],
    'ms',
    `max ${times[times.length - 1].toFixed(1)} ms, round trip + update + render model; target <= 50`,
  );
}

export const benchSection: BenchSection = {
  name: 'many-hosts',
  async run(ctx) {
    if (!pgBinDir()) {
      ctx.report('PostgreSQL store', NaN, '', 'skipped: PostgreSQL not installed (apt-get install postgresql)');
      await ipfixCost(ctx, 10);
      return;
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-bench-hosts-'));
    const pg = await startCluster('bench', { durable: true });
    try {
      const load = (): string => `load ${os.loadavg()[0].toFixed(1)} on ${os.cpus().length} CPUs`;
      let vacuumS = 0;
      let stored = 0;
      let rowBytes = 0;
      let databases = 0;
      /**
       * SAMPLES runs of `once`, each into a database of its own (so that no run pays for the upkeep
       * of the rows before it): records/s (median, range) and CPU per record, the sensors' and the
       * server's, from `onGo` (the sensors connected, their batches built) to the end. After each
       * run, untimed and measured on their own, the VACUUM autovacuum would do and a CHECKPOINT
       * (the WAL of all runs is the cluster's: 1 GB of it, PostgreSQL's max_wal_size, started one
       * inside whichever run it fell in, which then paid for its predecessors).
       */
      const measure = async (
        what: string,
        note: string,
        target: number,
        records: number,
        once: (url: string, i: number, onGo: () => void) => Promise<Span>,
      ): Promise<void> => {
        const rates: number[] = [];
        let sensorUs = 0;
        let serverS = 0;
        for (let i = 0; i < SAMPLES; i++) {
          const db = `sample${databases++}`;
          pg.psql(`CREATE DATABASE ${db}`);
          const url = pg.url.replace(/\/spymate$/, `/${db}`);
          let cpu0 = 0;
          const span = await once(url, i, () => (cpu0 = pg.cpuSeconds()));
          serverS += pg.cpuSeconds() - cpu0;
          sensorUs += span.cpuUs;
          rates.push(records / seconds(span));
          const upkeep0 = pg.cpuSeconds();
          const size = await sqlOn(url, [
            'VACUUM (ANALYZE) windows, flows, sensors',
            'CHECKPOINT',
            "SELECT pg_total_relation_size('windows') / count(*) AS n FROM windows",
          ]);
          vacuumS += pg.cpuSeconds() - upkeep0;
          stored += records;
          rowBytes = size;
          pg.psql(`DROP DATABASE ${db}`);
          emptyDir(dir);
        }
        rates.sort((a, b) => a - b);
        const per = (us: number): string => (us / (SAMPLES * records)).toFixed(1);
        ctx.report(
          `${what} (median of ${SAMPLES})`,
          rates[SAMPLES >> 1],
          'records/s',
          `${rates[0].toFixed(0)}-${rates[SAMPLES - 1].toFixed(0)}, ${rates.filter((r) => r >= target).length} of ${SAMPLES} ` +
            `at the target (${target}) or above; CPU per record: sensor ${per(sensorUs)} µs, server ${per(serverS * 1e6)} µs; ` +
            `${note}; ${load()}`,
        );
      };
      await measure(
        'one sensor into PostgreSQL',
        '100000 windows, NDJSON + COPY, committed',
        50_000,
        100_000,
        (url, i, onGo) => sensor(ctx.root, dir, { url }, `one${i}`, 100_000, async () => onGo()),
      );
      const lite = seconds(await sensor(ctx.root, dir, null, 'lite', 100_000));
      emptyDir(dir);
      ctx.report('  the same into SQLite (the default)', 100_000 / lite, 'records/s', load());
      await measure(
        'four sensors at once, in all',
        '4 processes x 50000 windows, one server',
        100_000,
        200_000,
        (url, i, onGo) =>
          sensorProcesses(
            dir,
            url,
            ['a', 'b', 'c', 'd'].map((n) => `${n}${i}`),
            50_000,
            onGo,
          ),
      );
      ctx.report(
        '  VACUUM and CHECKPOINT after each run',
        (vacuumS * 1e6) / stored,
        'µs server CPU per row',
        `${stored} rows; not in the figures above (autovacuum and the checkpointer do it in the background)`,
      );
      ctx.report(
        'PostgreSQL windows: bytes per row',
        rowBytes,
        'B',
        'table + primary key, 51 features as float64 bytes',
      );
      await ipfixCost(ctx, 10);
      await ipfixCost(ctx, 1);
      await viewRefresh(ctx, pg, dir);
    } finally {
      pg.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};
