/**
 * The filter thread (worker_threads): receives batches of classified records from the meter
 * worker over their MessageChannel, writes their NDJSON lines (formatted by the meter,
 * store/batch.ts) to stdout with --headless and to --out FILE, then stores them in SQLite in one
 * transaction per batch. NDJSON goes first so that when the database fails (disk full, locked)
 * every classified record is still somewhere.
 */
import fs from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import { describeFailure } from '../util/errors';
import { FlowStore, type RunMeta } from '../store/flow-store';
import { describeDbError, openWriteDb } from '../store/migrate';
import { openPrivate } from '../features/output';
import { writeAllSync } from './fdwrite';
import type { FilterStats, RecordBatch, WorkerFailure } from '../store/types';

export interface FilterThreadData {
  dbPath: string;
  outPath: string | null;
  /** write NDJSON to stdout */
  headless: boolean;
  timeoutS: number;
  keepS: number;
  featureNames: string[];
  run: RunMeta;
  /** the meter's end of the channel is elsewhere; this is ours */
  port: MessagePort;
}

/** filter thread → main thread */
export type FilterMessage =
  /** `run`: this run's id in the database, what its UI shows */
  | { kind: 'ready'; run: number }
  | { kind: 'stats'; stats: FilterStats }
  | WorkerFailure
  | { kind: 'done'; stats: FilterStats };

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

function run(data: FilterThreadData, post: (m: FilterMessage) => void): void {
  let db: Database.Database | null;
  let store: FlowStore | null;
  let outFd: number | null = null;
  let runId: number;
  try {
    db = openWriteDb(data.dbPath);
    store = new FlowStore(db, { timeoutS: data.timeoutS, keepS: data.keepS, featureNames: data.featureNames });
    store.writeRunMeta(data.run);
    runId = store.run;
    if (data.outPath) outFd = openPrivate(data.outPath, 'a').fd;
  } catch (err) {
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

  data.port.on('message', (batch: RecordBatch) => {
    const now = Date.now();
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
      if (outFd !== null) {
        try {
          writeAllSync(outFd, batch.ndjson);
        } catch (err) {
          fail(err, data.outPath ?? '--out');
          outFd = null;
        }
      }
    }
    let windows = 0;
    for (const r of batch.records) if (r.event === 'window') windows++;
    stats.records += batch.records.length;
    stats.windows += windows;
    rate.add(now, batch.records.length);
    stats.recordsPerS = rate.rate(now);
    if (store && db) {
      try {
        store.apply(batch, stats.recordsPerS);
      } catch (err) {
        // The database is gone for this run; records keep flowing to the NDJSON outputs.
        fail(describeDbError(err, data.dbPath), '');
        store = null;
        try {
          db.close();
        } catch {
          /* already reported */
        }
        db = null;
      }
    }
    if (!store) stats.notStored += batch.records.length;
    if (now - lastStats >= 500 || batch.final) {
      lastStats = now;
      post({ kind: 'stats', stats: { ...stats } });
    }
    if (batch.final) {
      try {
        db?.close();
      } catch (err) {
        fail(describeDbError(err, data.dbPath), '');
      }
      if (outFd !== null) fs.closeSync(outFd);
      post({ kind: 'done', stats: { ...stats } });
      data.port.close();
    }
  });
  post({ kind: 'ready', run: runId });
}

if (parentPort) {
  const port = parentPort;
  run(workerData as FilterThreadData, (m) => port.postMessage(m));
}
