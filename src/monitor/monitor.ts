/**
 * Runs the engine under spymate-tui: the filter thread and the meter worker, joined by a
 * MessageChannel, with the main thread only watching stats. Order matters for privileges:
 * the filter thread creates the database (or connects to PostgreSQL, and resolves its password
 * once) and --out while we are still root, they are chowned to
 * the user we drop to, the meter opens the capture device, and only then does the main thread
 * drop root (which, on Linux, covers every thread).
 */
import path from 'node:path';
import { MessageChannel, Worker } from 'node:worker_threads';
import { FEATURE_NAMES } from '../features/names';
import type { MeterMessage, MeterWorkerData, SourceSpec } from './meter-worker';
import { canReach, chownForDrop, dropPrivileges, dropTarget, type DropTarget } from '../capture/privileges';
import { EXIT_RUNTIME } from '../util/errors';
import type { FilterMessage, FilterThreadData, IpfixSpec, SensorSpec } from './filter-thread';
import { dbFiles } from '../store/migrate';
import type { StoreReport } from '../store/pg/sensor-store';
import type { IpfixReport } from '../export/ipfix-exporter';
import type { FilterStats, MeterStats } from '../store/types';

export interface MonitorOptions {
  source: SourceSpec;
  sourceLabel: string;
  dbPath: string;
  /** --store postgres://: records go to PostgreSQL, not to dbPath */
  pg: SensorSpec | null;
  ipfix: IpfixSpec | null;
  outPath: string | null;
  /** the TUI's live-labels file, created before the drop so the dropped user can append to it */
  labelsPath: string | null;
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
  /** the main thread reads the database after the drop (the UI) */
  readsDb: boolean;
  /** directories created for the database, to chown with it */
  createdDirs: string[];
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

const EMPTY_METER: MeterStats = { packets: 0, drops: 0, pps: 0, flows: 0, calls: 0, windows: 0, replayPosition: null };
const EMPTY_FILTER: FilterStats = { records: 0, windows: 0, recordsPerS: 0, notStored: 0 };

export class Monitor {
  private meter: Worker | null = null;
  private filter: Worker | null = null;
  private meterStats = EMPTY_METER;
  private filterStats = EMPTY_FILTER;
  private failure: { line: string; code: number } | null = null;
  private readonly t0 = Date.now();
  private droppedTo: DropTarget | null = null;
  private outputs: { store: StoreReport | null; ipfix: IpfixReport | null } = { store: null, ipfix: null };
  private resolveDone!: (s: MonitorSummary) => void;
  /** resolves when the filter thread has stored the last batch (or both workers are gone) */
  readonly done: Promise<MonitorSummary>;
  private filterGone = false;
  private meterGone = false;
  private meterDone = false;
  private settled = false;

  constructor(private readonly opts: MonitorOptions) {
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  private fail(line: string, code: number): void {
    if (!this.failure) this.failure = { line, code };
  }

  /** Done when the filter thread has stored the last batch and the meter's final stats are in. */
  private settle(): void {
    const meterFinal = this.meterDone || this.meterGone || !this.meter;
    if (!this.filterGone || !meterFinal || this.settled) return;
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

  /**
   * Starts both workers; resolves once the source is open and privileges are dropped, or with
   * false when start-up failed (the failure is in `done`).
   */
  async start(): Promise<boolean> {
    const o = this.opts;
    const { port1, port2 } = new MessageChannel();
    const target = dropTarget();
    const filterData: FilterThreadData = {
      dbPath: o.dbPath,
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
        if (m.kind === 'ready') resolve(true);
        else if (m.kind === 'stats') this.filterStats = m.stats;
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
    if (!(await filterReady)) {
      port1.close();
      await this.done;
      return false;
    }
    if (target)
      chownForDrop(
        [
          ...o.createdDirs,
          ...(o.pg ? [] : dbFiles(o.dbPath)),
          ...(o.outPath ? [o.outPath] : []),
          ...(o.labelsPath ? [o.labelsPath] : []),
        ],
        target,
      );

    const source =
      o.source.kind === 'live'
        ? { ...o.source, dropTo: target ? { uid: target.uid, gid: target.gid } : null }
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
    const meter = new Worker(path.join(__dirname, 'meter-worker.js'), { workerData: meterData, transferList: [port1] });
    this.meter = meter;
    // Warnings wait for the source to open: a failed start shows its error alone.
    let early: string[] | null = [];
    const opened = await new Promise<boolean>((resolve) => {
      meter.on('message', (m: MeterMessage) => {
        if (m.kind === 'open') {
          for (const line of early ?? []) o.warn(line);
          early = null;
          resolve(true);
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
          resolve(false);
        }
      });
      meter.on('error', (err) => {
        this.fail(`meter worker failed: ${err.message}`, EXIT_RUNTIME);
        // The filter thread waits for a final batch that will not come.
        this.filter?.terminate();
        resolve(false);
      });
      meter.on('exit', () => {
        this.meterGone = true;
        resolve(false);
        this.settle();
      });
    });
    if (!opened) {
      await this.done;
      return false;
    }
    if (target && o.readsDb && !o.pg && !canReach(o.dbPath, target)) {
      this.fail(
        `${o.dbPath}: after dropping root the UI runs as ${target.name}, who cannot enter its directory; ` +
          `choose a --db ${target.name} can reach, or run through sudo`,
        EXIT_RUNTIME,
      );
      this.stop();
      await this.done;
      return false;
    }
    if (target) {
      dropPrivileges(target);
      this.droppedTo = target;
    }
    return true;
  }

  /** Stops the source; the pipeline is flushed through the filter thread, then `done` resolves. */
  stop(): void {
    if (this.meter && !this.meterGone) this.meter.postMessage({ kind: 'stop' });
  }

  /** Latest stats, for a status line. */
  current(): { meter: MeterStats; filter: FilterStats } {
    return { meter: this.meterStats, filter: this.filterStats };
  }
}
