/**
 * Runs the engine under spymate-tui: the meter worker and the filter thread, joined by a
 * MessageChannel, with the main thread only watching stats. Order matters for privileges, as in
 * tcpdump -Z: the capture device is opened as root (live only), root is dropped to the invoking
 * user (which, on Linux, covers every thread), and only then are the rules, the model, the trace,
 * --out and the database (or the PostgreSQL connection, with the user's password file) opened, as
 * that user: nothing is created as root, nothing is chowned.
 */
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { FEATURE_NAMES } from '../features/names';
import type { MeterCommand, MeterMessage, MeterWorkerData, SourceSpec } from './meter-worker';
import { dropPrivileges, helperTarget, invokingUser, type DropTarget } from '../capture/privileges';
import { EXIT_RUNTIME } from '../util/errors';
import type { FilterMessage, FilterThreadData, IpfixSpec, SensorSpec } from './filter-thread';
import type { StoreReport } from '../store/pg/sensor-store';
import type { IpfixReport } from '../export/ipfix-exporter';
import { emptyMeterStats, type FilterStats, type MeterStats } from '../store/types';

export interface MonitorOptions {
  source: SourceSpec;
  sourceLabel: string;
  dbPath: string;
  /** --store postgres://: records go to PostgreSQL, not to dbPath */
  pg: SensorSpec | null;
  ipfix: IpfixSpec | null;
  outPath: string | null;
  headless: boolean;
  windowMs: number;
  rulesPath: string | null;
  modelPath: string | null;
  /** the call classifier's model; null: the shipped one when present */
  callModelPath: string | null;
  modelName: string;
  local: string[];
  timeoutS: number;
  keepS: number;
  maxFlows: number;
  /** the database is at the default location: its directory may be created (as the invoking user) */
  createDbDir: boolean;
  /** one line per warning (stderr) */
  warn: (line: string) => void;
}

export interface MonitorSummary {
  meter: MeterStats;
  filter: FilterStats;
  seconds: number;
  /** the first failure, if any: its line and exit code */
  failure: { line: string; code: number } | null;
  /** whom the process runs as now, when it dropped root */
  droppedTo: DropTarget | null;
  /** what the PostgreSQL store and the IPFIX exporter did, when in use */
  store: StoreReport | null;
  ipfix: IpfixReport | null;
}

const EMPTY_FILTER: FilterStats = { records: 0, windows: 0, recordsPerS: 0, notStored: 0 };

export class Monitor {
  private meter: Worker | null = null;
  private filter: Worker | null = null;
  private meterStats = emptyMeterStats();
  private filterStats = EMPTY_FILTER;
  private failure: { line: string; code: number } | null = null;
  private readonly t0 = Date.now();
  private droppedTo: DropTarget | null = null;
  /** this run's id in the database (known once the filter thread is ready): the UI shows its rows */
  run: number | null = null;
  private outputs: { store: StoreReport | null; ipfix: IpfixReport | null } = { store: null, ipfix: null };
  private resolveDone!: (s: MonitorSummary) => void;
  /** resolves when the filter thread has stored the last batch (or both workers are gone) */
  readonly done: Promise<MonitorSummary>;
  private filterGone = false;
  private meterGone = false;
  private meterDone = false;
  private settled = false;
  /** the meter's start-up progress, for start() to wait on */
  private onMeterStage: (reached: 'device' | 'open' | 'failed') => void = () => undefined;

  constructor(private readonly opts: MonitorOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  private fail(line: string, code: number): void {
    if (!this.failure) this.failure = { line, code };
  }

  /**
   * Done when the filter thread has stored the last batch (or never started) and the meter's final
   * stats are in.
   */
  private settle(): void {
    const meterFinal = this.meterDone || this.meterGone || !this.meter;
    if ((this.filter && !this.filterGone) || !meterFinal || this.settled) return;
    this.settled = true;
    this.meter?.terminate();
    this.resolveDone({
      meter: this.meterStats,
      filter: this.filterStats,
      seconds: (Date.now() - this.t0) / 1000,
      failure: this.failure,
      droppedTo: this.droppedTo,
      store: this.outputs.store,
      ipfix: this.outputs.ipfix,
    });
  }

  /** Becomes the invoking user for good (every thread: setuid is process-wide on Linux). */
  private drop(user: DropTarget): void {
    dropPrivileges(user);
    this.droppedTo = user;
  }

  /**
   * Starts both workers in tcpdump's order: the capture device is opened as root (live only), root
   * is dropped to the invoking user, then the meter opens rules, model and trace, and the filter
   * thread --out and the database, as that user. Resolves true once everything is open, false when
   * start-up failed (the failure is in `done`).
   */
  async start(): Promise<boolean> {
    const o = this.opts;
    const live = o.source.kind === 'live';
    // a replay arrives here as the invoking user already (spymate-tui drops first thing)
    const user = live ? invokingUser() : null;
    const { port1, port2 } = new MessageChannel();
    const helperDrop = helperTarget();
    const source =
      o.source.kind === 'live'
        ? { ...o.source, dropTo: helperDrop ? { uid: helperDrop.uid, gid: helperDrop.gid } : null }
        : o.source;
    const meterData: MeterWorkerData = {
      source,
      windowMs: o.windowMs,
      rulesPath: o.rulesPath,
      modelPath: o.modelPath,
      callModelPath: o.callModelPath,
      local: o.local,
      timeoutS: o.timeoutS,
      maxFlows: o.maxFlows,
      ndjson: o.headless || o.outPath !== null,
      port: port1,
    };
    const meter = new Worker(path.join(__dirname, 'meter-worker.js'), {
      workerData: meterData,
      transferList: [port1],
    });
    this.meter = meter;
    // Warnings wait for the source to open: a failed start shows its error alone.
    let early: string[] | null = [];
    const stage = (wanted: 'device' | 'open'): Promise<boolean> =>
      new Promise((resolve) => {
        this.onMeterStage = (reached) => {
          if (reached === wanted || reached === 'failed') resolve(reached === wanted);
        };
      });
    meter.on('message', (m: MeterMessage) => {
      if (m.kind === 'device' || m.kind === 'open') {
        if (m.kind === 'open') {
          for (const line of early ?? []) o.warn(line);
          early = null;
        }
        this.onMeterStage(m.kind);
      } else if (m.kind === 'stats') this.meterStats = m.stats;
      else if (m.kind === 'done') {
        this.meterStats = m.stats;
        this.meterDone = true;
        this.settle();
      } else if (m.kind === 'warning') {
        if (early) early.push(m.line);
        else o.warn(m.line);
      } else if (m.kind === 'error') {
        this.fail(m.line, m.code);
        this.onMeterStage('failed');
      }
    });
    meter.on('error', (err) => {
      this.fail(`meter worker failed: ${err.message}`, EXIT_RUNTIME);
      // The filter thread waits for a final batch that will not come.
      this.filter?.terminate();
      this.onMeterStage('failed');
    });
    meter.on('exit', () => {
      this.meterGone = true;
      this.onMeterStage('failed');
      this.settle();
    });
    if (live) {
      if (!(await stage('device'))) return this.failedStart();
      if (user) this.drop(user);
      meter.postMessage({ kind: 'setup' } satisfies MeterCommand);
    }
    if (!(await stage('open'))) return this.failedStart();

    const filterData: FilterThreadData = {
      dbPath: o.dbPath,
      createDbDir: o.createDbDir,
      outPath: o.outPath,
      headless: o.headless,
      timeoutS: o.timeoutS,
      keepS: o.keepS,
      featureNames: [...FEATURE_NAMES],
      run: { source: o.sourceLabel, model: o.modelName, windowMs: o.windowMs },
      pg: o.pg,
      ipfix: o.ipfix,
      port: port2,
    };
    const filter = new Worker(path.join(__dirname, 'filter-thread.js'), {
      workerData: filterData,
      transferList: [port2],
    });
    this.filter = filter;
    const filterReady = new Promise<boolean>((resolve) => {
      filter.on('message', (m: FilterMessage) => {
        if (m.kind === 'ready') {
          this.run = m.run;
          resolve(true);
        } else if (m.kind === 'stats') this.filterStats = m.stats;
        else if (m.kind === 'warning') o.warn(m.line);
        else if (m.kind === 'error') {
          this.fail(m.line, m.code);
          this.stop();
          resolve(false);
        } else if (m.kind === 'done') {
          this.filterStats = m.stats;
          this.outputs = { store: m.store, ipfix: m.ipfix };
        }
      });
      filter.on('error', (err) => {
        this.fail(`filter thread failed: ${err.message}`, EXIT_RUNTIME);
        this.stop();
        resolve(false);
      });
      filter.on('exit', () => {
        this.filterGone = true;
        resolve(false);
        this.settle();
        // The meter's final stats normally arrive first; never wait for them forever.
        setTimeout(() => {
          this.meterDone = true;
          this.settle();
        }, 2000).unref();
      });
    });
    if (!(await filterReady)) return this.failedStart();
    meter.postMessage({ kind: 'start' } satisfies MeterCommand);
    return true;
  }

  /** Start-up failed: the meter is told to stop; resolves false once everything is down. */
  private async failedStart(): Promise<false> {
    this.stop();
    await this.done;
    return false;
  }

  /** Stops the source; the pipeline is flushed through the filter thread, then `done` resolves. */
  stop(): void {
    if (this.meter && !this.meterGone) this.meter.postMessage({ kind: 'stop' } satisfies MeterCommand);
  }

  /** Latest stats, for a status line. */
  current(): { meter: MeterStats; filter: FilterStats } {
    return { meter: this.meterStats, filter: this.filterStats };
  }
}
