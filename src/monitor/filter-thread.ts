/**
 * The filter thread (worker_threads): receives batches of classified records from the meter
 * worker over their MessageChannel, writes their NDJSON lines (formatted by the meter,
 * store/batch.ts) to stdout with --headless and to --out FILE, then stores them in SQLite in one
 * transaction per batch, or (--store postgres://) hands them to the sensor's PostgreSQL store, and
 * (--ipfix) to the IPFIX exporter. NDJSON goes first so that when the database fails (disk full,
 * locked, unreachable) every classified record is still somewhere.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { describeFailure } from '../util/errors';
import { FlowStore, type RunMeta } from '../store/flow-store';
import { closeWriteDb, describeDbError, openWriteDb } from '../store/migrate';
import { openOutput, type OutputFile } from '../features/output';
import { SensorStore, type StoreReport } from '../store/pg/sensor-store';
import { parsePgUrl } from '../store/pg/target';
import { summaryToJson } from '../store/ndjson';
import { IpfixExporter, type IpfixReport } from '../export/ipfix-exporter';
import { writeAllSync } from './fdwrite';
import { unpackBatch } from '../store/batch';
import type { FilterStats, MeterStats, PackedBatch, WorkerFailure } from '../store/types';

/** --store postgres://...: this capture host is a sensor of a shared PostgreSQL store. */
export interface SensorSpec {
  url: string;
  sensor: string;
  /** queue budget while the server is away: memory, then a spool file in spoolDir */
  memoryBytes: number;
  diskBytes: number;
  spoolDir: string;
  /** how long the end of the run waits for a server that is away, ms */
  drainMs: number;
}

/** --ipfix udp://HOST:PORT | tcp://HOST:PORT */
export interface IpfixSpec {
  url: string;
  intervalS: number;
  pen: number;
  domain: number;
}

export interface FilterThreadData {
  dbPath: string;
  /** the database is at the default location: its directory may be created */
  createDbDir: boolean;
  outPath: string | null;
  /** write NDJSON to stdout */
  headless: boolean;
  timeoutS: number;
  keepS: number;
  featureNames: string[];
  run: RunMeta;
  /** the PostgreSQL store instead of SQLite (dbPath is then unused) */
  pg: SensorSpec | null;
  ipfix: IpfixSpec | null;
  /** the meter's end of the channel is elsewhere; this is ours */
  port: MessagePort;
}

/** filter thread → main thread */
export type FilterMessage =
  /** `run`: this run's id in the SQLite database, what its UI shows (null: a sensor's, in PostgreSQL) */
  | { kind: 'ready'; run: number | null }
  | { kind: 'stats'; stats: FilterStats }
  | { kind: 'warning'; line: string }
  | WorkerFailure
  | { kind: 'done'; stats: FilterStats; store: StoreReport | null; ipfix: IpfixReport | null };

/** Records per second over a sliding second. */
class RateMeter {
  private marks: Array<[number, number]> = [];
  add(now: number, n: number): void {
    this.marks.push([now, n]);
    while (this.marks.length > 1 && now - this.marks[0][0] > 1000) this.marks.shift();
  }
  rate(now: number): number {
    let n = 0;
    for (const [t, k] of this.marks) if (now - t <= 1000) n += k;
    return n;
  }
}

async function run(data: FilterThreadData, post: (m: FilterMessage) => void): Promise<void> {
  let db: Database.Database | null = null;
  let store: FlowStore | null = null;
  let sensor: SensorStore | null = null;
  let ipfix: IpfixExporter | null = null;
  let out: OutputFile | null = null;
  let runId: number | null = null;
  const warn = (line: string): void => post({ kind: 'warning', line });
  try {
    // --out first: a bad one is found before the database is created
    if (data.outPath) out = openOutput(data.outPath, { append: true });
    if (data.pg) {
      sensor = await SensorStore.open({
        target: parsePgUrl(data.pg.url),
        sensor: data.pg.sensor,
        run: data.run,
        timeoutS: data.timeoutS,
        keepS: data.keepS,
        featureNames: data.featureNames,
        budget: { memoryBytes: data.pg.memoryBytes, diskBytes: data.pg.diskBytes, spoolDir: data.pg.spoolDir },
        drainMs: data.pg.drainMs,
        warn,
      });
    } else {
      db = openWriteDb(data.dbPath, { createDir: data.createDbDir, exclusive: true });
      try {
        store = new FlowStore(db, { timeoutS: data.timeoutS, keepS: data.keepS, featureNames: data.featureNames });
        store.writeRunMeta(data.run);
        runId = store.run;
      } catch (err) {
        throw describeDbError(err, data.dbPath);
      }
    }
    if (data.ipfix) ipfix = await IpfixExporter.open({ ...data.ipfix, warn });
  } catch (err) {
    // what did open must not keep the thread alive: the run ends here; a --out it created goes
    sensor?.abandon();
    await ipfix?.close();
    if (db) closeWriteDb(db);
    out?.abort();
    post({ kind: 'error', ...describeFailure(err) });
    return;
  }
  let toStdout = data.headless;
  const stats: FilterStats = { records: 0, windows: 0, recordsPerS: 0, notStored: 0 };
  const rate = new RateMeter();
  let lastStats = 0;

  const fail = (err: unknown, what: string): void => {
    const { line, code } = describeFailure(err);
    post({ kind: 'error', line: what ? `${what}: ${line}` : line, code });
  };

  const featureCount = data.featureNames.length;
  /**
   * Batches are taken one per turn of the event loop, not all that wait at once (a port hands over
   * every queued message in one go): between two, the PostgreSQL and IPFIX connections get their
   * answers and send the next rows, so a burst is stored while it is still being taken.
   */
  const waiting: PackedBatch[] = [];
  const takeNext = (): void => {
    const packed = waiting.shift();
    if (packed === undefined) return;
    take(packed);
    if (waiting.length > 0) setImmediate(takeNext);
  };
  data.port.on('message', (packed: PackedBatch) => {
    if (waiting.push(packed) === 1) setImmediate(takeNext);
  });

  const take = (packed: PackedBatch): void => {
    const now = Date.now();
    const batch = unpackBatch(packed, featureCount);
    if (batch.ndjson.length) {
      // each output on its own: a reader of stdout gone away must not cost the --out file
      if (toStdout) {
        try {
          writeAllSync(1, batch.ndjson);
        } catch (err) {
          fail(err, 'stdout');
          toStdout = false;
        }
      }
      if (out !== null) {
        try {
          writeAllSync(out.fd, batch.ndjson);
        } catch (err) {
          fail(err, data.outPath ?? '--out');
          out.commit();
          out = null;
        }
      }
    }
    let windows = 0;
    for (const r of batch.records) if (r.event === 'window') windows++;
    stats.records += batch.records.length;
    stats.windows += windows;
    rate.add(now, batch.records.length);
    stats.recordsPerS = rate.rate(now);
    ipfix?.add(batch.records);
    if (sensor) sensor.apply(batch, stats.recordsPerS);
    else if (store && db) {
      try {
        store.apply(batch, stats.recordsPerS);
      } catch (err) {
        // The database is gone for this run; records keep flowing to the NDJSON outputs.
        fail(describeDbError(err, data.dbPath), '');
        store = null;
        try {
          closeWriteDb(db);
        } catch {
          /* already reported */
        }
        db = null;
      }
    }
    if (!store && !sensor) stats.notStored += batch.records.length;
    if (now - lastStats >= 500 || batch.final) {
      lastStats = now;
      post({ kind: 'stats', stats: { ...stats } });
    }
    if (batch.final) void finish(batch.stats);
  };

  /** After the last batch: the stores deliver what they hold, the summary, done. */
  const finish = async (meter: MeterStats): Promise<void> => {
    try {
      store?.endRun(meter, stats.records);
      if (db) closeWriteDb(db);
    } catch (err) {
      fail(describeDbError(err, data.dbPath), '');
    }
    const storeReport = sensor ? await sensor.close() : null;
    const ipfixReport = ipfix ? await ipfix.close() : null;
    // the sensor's window rows that never reached PostgreSQL are in the NDJSON outputs only
    if (storeReport) stats.notStored += storeReport.queued + storeReport.dropped;
    // every run's NDJSON ends with how it went: the packets never processed, by cause, among them
    const line = Buffer.from(
      summaryToJson({
        packets: meter.packets,
        drops: meter.drops,
        dropsKernel: meter.dropsKernel,
        dropsInterface: meter.dropsInterface,
        dropsMeter: meter.dropsMeter,
        flows: meter.flows,
        calls: meter.calls,
        sensor: data.pg?.sensor ?? null,
        records: stats.records,
        windows: stats.windows,
        store: storeReport ? { url: parsePgUrl(data.pg!.url).display, ...storeReport } : null,
        ipfix: ipfixReport,
      }) + '\n',
    );
    for (const [fd, name] of [
      [toStdout ? 1 : null, 'stdout'],
      [out?.fd ?? null, data.outPath ?? '--out'],
    ] as const) {
      if (fd === null) continue;
      try {
        writeAllSync(fd, line);
      } catch (err) {
        fail(err, name);
      }
    }
    out?.commit();
    post({ kind: 'done', stats: { ...stats }, store: storeReport, ipfix: ipfixReport });
    data.port.close();
  };
  post({ kind: 'ready', run: runId });
}

if (parentPort) {
  const port = parentPort;
  void run(workerData as FilterThreadData, (m) => port.postMessage(m));
}
