/**
 * A sensor's side of the PostgreSQL store: the filter thread hands it each batch (synchronously,
 * never waiting), and it delivers them in the background, one transaction per flush:
 *   windows  binary COPY straight into `windows`; rows that may be stored already (a sensor
 *            restarted on the same trace) go through a temporary table and an upsert instead
 *   flows    the rows changed since they were last written, whole (store/pg/flow-states.ts):
 *            new and ended flows at the next flush, one that goes on at most once a second;
 *            upserted unless the stored row is newer
 *   sensors  this sensor's counters and the server's now() as its last report
 * While the server is down or restarting, windows wait in a RecordQueue (memory, then a spool
 * file, then dropped and counted) and flow rows stay dirty in memory; each change of state is one
 * line on stderr, and the counts go into the run's summary.
 */
import { Client, types as pgTypes } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { RunMeta } from '../flow-store';
import type { MeterStats, RecordBatch, WindowOut } from '../types';
import { COPY_HEADER, COPY_TRAILER, CopyWriter } from './copy-binary';
import { FlowStates, type FlowState } from './flow-states';
import { describePgError, isTransient, migratePg } from './migrate';
import { RecordQueue, type QueueBudget } from './record-queue';
import type { PgTarget } from './target';

export interface SensorStoreOptions {
  target: PgTarget;
  sensor: string;
  run: RunMeta;
  timeoutS: number;
  keepS: number;
  featureNames: readonly string[];
  budget: QueueBudget;
  /** how long close() keeps trying to deliver what is queued, ms */
  drainMs: number;
  /** one line for stderr */
  warn: (line: string) => void;
}

/** What the store did, for the summary (stderr and the NDJSON summary line). */
export interface StoreReport {
  /** window rows stored */
  delivered: number;
  /** window rows still queued when the run ended (not stored) */
  queued: number;
  /** window rows dropped: the queue's budget was full, or the database refused them */
  dropped: number;
  /** window rows that waited in the spool file */
  spilled: number;
  /** flow rows whose last state was not stored */
  flowsPending: number;
  /** times the database went away, and seconds it was away in all */
  outages: number;
  downSeconds: number;
}

const WINDOW_COLUMNS =
  'sensor, flow_id, start, "end", packets, bytes, bitrate, raw, presence, probability, certainty, raw_probability, features, ' +
  'remote_presence, remote_probability';
const WINDOW_VALUES = [
  '"end"',
  'packets',
  'bytes',
  'bitrate',
  'raw',
  'presence',
  'probability',
  'certainty',
  'raw_probability',
  'features',
  'remote_presence',
  'remote_probability',
];
const FLOW_FIELDS: ReadonlyArray<keyof FlowState> = [
  'flow_id',
  'app',
  'src_ip',
  'src_port',
  'des_ip',
  'des_port',
  'protocol',
  'first_ts',
  'last_ts',
  'media_ts',
  'packets',
  'bytes',
  'bitrate',
  'windows',
  'person_windows',
  'presence',
  'probability',
  'certainty',
  'timeout_at',
  'ended',
  'end_reason',
  'ended_at',
  'updated_at',
  'call_certainty',
  'call_reason',
  'presence_since',
  'remote_presence',
  'remote_probability',
  'remote_certainty',
  'remote_since',
];
const FLOW_COLUMNS = `sensor, ${FLOW_FIELDS.join(', ')}`;

const UPSERT_WINDOWS =
  `INSERT INTO windows (${WINDOW_COLUMNS}) SELECT DISTINCT ON (flow_id, start) ${WINDOW_COLUMNS} FROM windows_stage ` +
  `ON CONFLICT (sensor, flow_id, start) DO UPDATE SET ${WINDOW_VALUES.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
const UPSERT_FLOWS =
  `INSERT INTO flows (${FLOW_COLUMNS}) SELECT ${FLOW_COLUMNS} FROM flows_stage ON CONFLICT (sensor, flow_id) DO UPDATE SET ` +
  FLOW_FIELDS.slice(1)
    .map((c) => `${c} = EXCLUDED.${c}`)
    .join(', ') +
  ' WHERE flows.updated_at <= EXCLUDED.updated_at';
const UPSERT_SENSOR = `INSERT INTO sensors (sensor, source, model, window_ms, timeout_s, keep_s, feature_names, monitor_start, clock,
    packets, drops, pps, flows, calls, windows, records_per_s, replay_position, max_start, queued, dropped, state, started_at, reported_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, now(), now())
  ON CONFLICT (sensor) DO UPDATE SET source = $2, model = $3, window_ms = $4, timeout_s = $5, keep_s = $6, feature_names = $7,
    monitor_start = $8, clock = $9, packets = $10, drops = $11, pps = $12, flows = $13, calls = $14, windows = $15,
    records_per_s = $16, replay_position = $17, max_start = GREATEST(sensors.max_start, $18), queued = $19, dropped = $20,
    state = $21, reported_at = now(), started_at = CASE WHEN $22 THEN now() ELSE sensors.started_at END`;

/** A flush waits for this many rows, or this long since the last one. */
const FLUSH_ROWS = 4096;
const FLUSH_MS = 200;
/** a flow that goes on is rewritten at most this often (new and ended ones at the next flush) */
const FLOW_EVERY_MS = 1000;
/** at most this much COPY data per transaction */
const FLUSH_BYTES = 8 << 20;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 4000;
/** A sensor whose row was reported this recently and not stopped may still be running. */
const ALIVE_S = 10;

const INT8_OID = 20;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function mib(bytes: number): string {
  return `${Math.round(bytes / (1 << 20))} MiB`;
}

function reason(err: unknown): string {
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNREFUSED') return 'connection refused';
  return (e.message ?? String(err)).split('\n')[0];
}

export class SensorStore {
  private client: Client | null = null;
  private migrated = false;
  private registered = false;
  private readonly flows: FlowStates;
  private readonly queue: RecordQueue;
  private readonly writer = new CopyWriter();
  /** the sensor's name in UTF-8, as every window and flow row carries it */
  private readonly sensorName: Buffer;
  private chunkMin = Infinity;
  private chunkMax = -Infinity;
  /**
   * The latest window start this sensor had stored before this run: a window at or before it may
   * be stored already (a sensor restarted on the same trace). Within a run each window comes once.
   */
  private storedBefore = -Infinity;
  /** the last flush failed: it may have committed all the same, so its rows may be stored */
  private uncertain = false;
  private meta: { clock: number; monitorStart: number | null; stats: MeterStats | null; recordsPerS: number } = {
    clock: 0,
    monitorStart: null,
    stats: null,
    recordsPerS: 0,
  };
  private metaVersion = 0;
  private metaWritten = -1;
  private closing = false;
  /** close() has given up waiting: the loop stops */
  private closed = false;
  private running = false;
  private lastFlush = 0;
  private retryAt = 0;
  private backoff = RETRY_MIN_MS;
  private downSince: number | null = null;
  private idle: Array<() => void> = [];
  private warnedSpill = false;
  private warnedDrop = false;
  private readonly report: StoreReport = {
    delivered: 0,
    queued: 0,
    dropped: 0,
    spilled: 0,
    flowsPending: 0,
    outages: 0,
    downSeconds: 0,
  };

  private constructor(private readonly o: SensorStoreOptions) {
    this.flows = new FlowStates({ timeoutS: o.timeoutS, keepS: o.keepS });
    this.sensorName = Buffer.from(o.sensor);
    this.queue = new RecordQueue(o.budget);
  }

  /**
   * Connects, creates or checks the tables and registers the sensor. A server that cannot be
   * reached now is waited for (records queue meanwhile); a setting that cannot work (no such
   * database, bad password, no rights) throws a UserError.
   */
  static async open(o: SensorStoreOptions): Promise<SensorStore> {
    const s = new SensorStore(o);
    try {
      await s.connect();
    } catch (err) {
      if (!isTransient(err)) throw describePgError(err, o.target);
      s.down(err);
    }
    return s;
  }

  private async connect(): Promise<void> {
    const client = new Client({
      ...this.o.target.config,
      keepAlive: true,
      connectionTimeoutMillis: 5000,
      query_timeout: 30000,
      types: {
        getTypeParser: (oid: number, format?: 'text' | 'binary') =>
          oid === INT8_OID ? Number : pgTypes.getTypeParser(oid, format),
      },
    });
    // a connection lost between queries (the server shut down): down now, with the server's reason
    client.on('error', (err) => {
      if (this.client === client) this.down(err);
    });
    try {
      await client.connect();
      if (!this.migrated) await migratePg(client, this.o.target);
      this.migrated = true;
      if (!this.registered) await this.checkName(client);
      await client.query(
        'CREATE TEMP TABLE windows_stage (LIKE windows) ON COMMIT DELETE ROWS; CREATE TEMP TABLE flows_stage (LIKE flows) ON COMMIT DELETE ROWS',
      );
    } catch (err) {
      await client.end().catch(() => undefined);
      throw err;
    }
    this.client = client;
  }

  /** Two capture hosts under one name would overwrite each other's flows: say so. */
  private async checkName(client: Client): Promise<void> {
    const r = await client.query<{ state: string; ago: number; max_start: number | null }>(
      'SELECT state, extract(epoch FROM now() - reported_at)::float8 AS ago, max_start FROM sensors WHERE sensor = $1',
      [this.o.sensor],
    );
    const prev = r.rows[0];
    this.storedBefore = prev?.max_start ?? -Infinity;
    if (prev && prev.state === 'running' && prev.ago < ALIVE_S) {
      this.o.warn(
        `sensor '${this.o.sensor}' reported ${prev.ago.toFixed(0)} s ago and did not stop: if another capture host runs under ` +
          'this name, give each its own --sensor NAME (a sensor restarted after a crash can ignore this)',
      );
    }
  }

  /** Takes one batch; never waits and never throws. */
  apply(batch: RecordBatch, recordsPerS: number): void {
    for (const r of batch.records) {
      this.flows.apply(r);
      if (r.event === 'window') this.encodeWindow(r);
    }
    this.flows.sweep(batch.clock);
    this.meta = { clock: batch.clock, monitorStart: batch.monitorStart, stats: batch.stats, recordsPerS };
    this.metaVersion++;
    if (this.writer.rows > 0) {
      const chunk = {
        rows: this.writer.rows,
        minStart: this.chunkMin,
        maxStart: this.chunkMax,
        data: this.writer.take(),
      };
      this.chunkMin = Infinity;
      this.chunkMax = -Infinity;
      if (!this.queue.push(chunk)) this.noteDrop();
      else if (this.queue.diskBytes > 0) this.noteSpill();
    }
    this.kick();
  }

  private encodeWindow(w: WindowOut): void {
    const bitrate = w.end > w.start ? (w.bytes * 8) / (w.end - w.start) : 0;
    this.writer
      .row(15)
      .bytes(this.sensorName)
      .text(w.flowID)
      .float8(w.start)
      .float8(w.end)
      .int4(w.packets)
      .int8(w.bytes)
      .float8(bitrate)
      .int2OrNull(w.raw)
      .text(w.presence)
      .float8OrNull(w.probability)
      .float8OrNull(w.certainty)
      .float8OrNull(w.rawProbability)
      .float8Le(w.features)
      .text(w.remotePresence)
      .float8OrNull(w.remoteProbability);
    if (w.start < this.chunkMin) this.chunkMin = w.start;
    if (w.start > this.chunkMax) this.chunkMax = w.start;
  }

  private noteSpill(): void {
    if (this.warnedSpill) return;
    this.warnedSpill = true;
    this.o.warn(
      `${mib(this.o.budget.memoryBytes)} of queued records in memory: the rest waits in a file in ${this.o.budget.spoolDir}`,
    );
  }

  private noteDrop(): void {
    if (this.warnedDrop) return;
    this.warnedDrop = true;
    const spool = this.queue.spoolProblem ? ` (spool file: ${this.queue.spoolProblem})` : '';
    this.o.warn(
      `the store's queue is full (${mib(this.o.budget.memoryBytes)} memory + ${mib(this.o.budget.diskBytes)} disk)${spool}: ` +
        'dropping window records until PostgreSQL catches up; the summary counts them',
    );
  }

  private hasWork(): boolean {
    return !this.queue.empty || this.flows.dirtyCount > 0 || this.metaVersion !== this.metaWritten;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    while (!this.closed && this.hasWork()) {
      const now = Date.now();
      if (this.client === null) {
        if (now < this.retryAt) {
          await sleep(Math.min(this.retryAt - now, 100));
          continue;
        }
        try {
          await this.connect();
        } catch (err) {
          this.down(err);
          continue;
        }
        this.up();
      }
      if (!this.closing && this.queue.rows < FLUSH_ROWS && now - this.lastFlush < FLUSH_MS) {
        await sleep(FLUSH_MS - (now - this.lastFlush));
        continue;
      }
      this.lastFlush = Date.now();
      try {
        await this.flush(false);
      } catch (err) {
        if (isTransient(err)) this.down(err);
        else this.rejected(err);
      }
    }
    this.running = false;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  private down(err: unknown): void {
    const client = this.client;
    this.client = null;
    if (client) void client.end().catch(() => undefined);
    const now = Date.now();
    this.retryAt = now + this.backoff;
    this.backoff = Math.min(this.backoff * 2, RETRY_MAX_MS);
    if (this.downSince !== null) return;
    this.downSince = now;
    this.report.outages++;
    this.o.warn(
      `${this.o.target.display} unreachable (${reason(err)}): capturing on, queueing records ` +
        `(${mib(this.o.budget.memoryBytes)} memory, then ${mib(this.o.budget.diskBytes)} disk) until it is back`,
    );
  }

  /** Connected again: say so, with what is about to be delivered. */
  private up(): void {
    this.backoff = RETRY_MIN_MS;
    if (this.downSince === null) return;
    const s = (Date.now() - this.downSince) / 1000;
    this.report.downSeconds += s;
    this.downSince = null;
    this.o.warn(
      `${this.o.target.display} is back after ${s.toFixed(1)} s: delivering ${this.queue.rows} queued window records`,
    );
  }

  /** The server refused the data itself (not the connection): those rows are dropped and counted, the rest goes on. */
  private rejected(err: unknown): void {
    const head = this.queue.head(FLUSH_BYTES);
    const rows = head.reduce((n, c) => n + c.rows, 0);
    this.queue.remove(head.length);
    this.queue.dropped += rows;
    this.o.warn(`${describePgError(err, this.o.target).message}: ${rows} window records dropped`);
  }

  /** One transaction: queued windows, changed flows, the sensor's row. */
  private async flush(staged: boolean): Promise<void> {
    const client = this.client as Client;
    const chunks = this.queue.head(FLUSH_BYTES);
    const taken = this.flows.takeDirty(Date.now(), this.closing ? 0 : FLOW_EVERY_MS);
    const metaVersion = this.metaVersion;
    // flows that are not due yet are all there is: nothing to write now
    if (chunks.length === 0 && taken.length === 0 && metaVersion === this.metaWritten) return;
    const rows = chunks.reduce((n, c) => n + c.rows, 0);
    const maxStart = chunks.reduce((m, c) => Math.max(m, c.maxStart), -Infinity);
    const mayConflict = staged || this.uncertain || chunks.some((c) => c.minStart <= this.storedBefore);
    await client.query('BEGIN');
    try {
      if (chunks.length > 0) {
        const data = chunks.map((c) => c.data);
        if (mayConflict) {
          await copy(client, `COPY windows_stage (${WINDOW_COLUMNS}) FROM STDIN (FORMAT binary)`, data);
          await client.query(UPSERT_WINDOWS);
        } else {
          await copy(client, `COPY windows (${WINDOW_COLUMNS}) FROM STDIN (FORMAT binary)`, data);
        }
      }
      if (taken.length > 0) {
        await copy(client, `COPY flows_stage (${FLOW_COLUMNS}) FROM STDIN (FORMAT binary)`, [this.encodeFlows(taken)]);
        await client.query(UPSERT_FLOWS);
      }
      await client.query(UPSERT_SENSOR, this.sensorParams(maxStart, this.queue.rows - rows));
      await client.query('COMMIT');
    } catch (err) {
      this.uncertain = true;
      await client.query('ROLLBACK').catch(() => undefined);
      // a window stored already that the check above could not know of (another process under
      // this name, or a commit whose answer was lost): the same rows again, through the upsert
      if ((err as { code?: string }).code === '23505' && !mayConflict) return this.flush(true);
      throw err;
    }
    this.queue.remove(chunks.length);
    this.flows.written(taken, Date.now());
    this.metaWritten = metaVersion;
    this.registered = true;
    this.report.delivered += rows;
    this.uncertain = false;
  }

  private encodeFlows(taken: ReadonlyArray<{ row: FlowState }>): Buffer {
    const w = new CopyWriter(taken.length * 256);
    for (const { row: f } of taken) {
      w.row(31)
        .bytes(this.sensorName)
        .text(f.flow_id)
        .text(f.app)
        .text(f.src_ip)
        .int4(f.src_port)
        .text(f.des_ip)
        .int4(f.des_port)
        .text(f.protocol)
        .float8(f.first_ts)
        .float8(f.last_ts)
        .float8OrNull(f.media_ts)
        .int8(f.packets)
        .int8(f.bytes)
        .float8(f.bitrate)
        .int4(f.windows)
        .int4(f.person_windows)
        .text(f.presence)
        .float8OrNull(f.probability)
        .float8OrNull(f.certainty)
        .float8(f.timeout_at)
        .bool(f.ended)
        .textOrNull(f.end_reason)
        .float8OrNull(f.ended_at)
        .float8(f.updated_at)
        .float8OrNull(f.call_certainty ?? null)
        .textOrNull(f.call_reason ?? null)
        .float8OrNull(f.presence_since)
        .text(f.remote_presence)
        .float8OrNull(f.remote_probability)
        .float8OrNull(f.remote_certainty)
        .float8OrNull(f.remote_since);
    }
    return w.take();
  }

  private sensorParams(maxStart: number, queued: number): unknown[] {
    const o = this.o;
    const m = this.meta;
    const s = m.stats;
    return [
      o.sensor,
      o.run.source,
      o.run.model,
      o.run.windowMs,
      o.timeoutS,
      o.keepS,
      [...o.featureNames],
      m.monitorStart,
      m.clock || null,
      s?.packets ?? 0,
      s?.drops ?? 0,
      s?.pps ?? 0,
      s?.flows ?? 0,
      s?.calls ?? 0,
      s?.windows ?? 0,
      m.recordsPerS,
      s?.replayPosition ?? null,
      Number.isFinite(maxStart) ? maxStart : null,
      queued,
      this.queue.dropped,
      this.closing ? 'stopped' : 'running',
      !this.registered,
    ];
  }

  /**
   * Delivers what is queued, waiting up to drainMs for a server that is away, marks the sensor
   * stopped and disconnects. What could not be delivered is in the report.
   */
  /** A run that failed to start: disconnect, deliver nothing. */
  abandon(): void {
    this.closed = true;
    const client = this.client;
    this.client = null;
    void client?.end().catch(() => undefined);
    this.queue.close();
  }

  async close(): Promise<StoreReport> {
    this.closing = true;
    this.metaVersion++;
    const idle = new Promise<void>((r) => this.idle.push(r));
    this.kick();
    if (this.downSince !== null && this.hasWork()) {
      this.o.warn(
        `waiting up to ${(this.o.drainMs / 1000).toFixed(0)} s for ${this.o.target.display} to take ${this.queue.rows} queued window records`,
      );
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([idle, new Promise<void>((r) => (timer = setTimeout(r, this.o.drainMs)))]);
    clearTimeout(timer);
    if (this.downSince !== null) this.report.downSeconds += (Date.now() - this.downSince) / 1000;
    const client = this.client;
    this.client = null;
    this.closed = true; // a loop still waiting for the server stops at its next look
    await client?.end().catch(() => undefined);
    this.queue.close();
    return {
      ...this.report,
      queued: this.queue.rows,
      dropped: this.queue.dropped,
      spilled: this.queue.spilled,
      flowsPending: this.flows.dirtyCount,
    };
  }
}

/** COPY ... FROM STDIN of `rows` (binary COPY rows, written as they are: no copy into one buffer). */
function copy(client: Client, sql: string, rows: readonly Buffer[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const stream = client.query(copyFrom(sql));
    stream.on('error', reject);
    stream.on('finish', () => resolve());
    stream.write(COPY_HEADER);
    for (const r of rows) stream.write(r);
    stream.end(COPY_TRAILER);
  });
}
