import type Database from 'better-sqlite3';
import { featureBytes, featureValues, parseFeatureNames } from './features-blob';
import type { FlowEventOut, MeterStats, RecordBatch, WindowOut } from './types';

export interface FlowStoreOptions {
  /** seconds without packets before a flow record times out */
  timeoutS: number;
  /** seconds an ended record stays in the live table */
  keepS: number;
  featureNames: readonly string[];
}

/** What one batch's windows change in one flow row: applied once per flow per batch. */
interface FlowDelta {
  /** the flow's latest window in the batch: its presence, app, addresses */
  latest: WindowOut;
  first: number;
  last: number;
  dp: number;
  db: number;
  dw: number;
  dpw: number;
  bitrate: number;
  timeoutAt: number;
  updated: number;
  /** start of the batch's last run of windows with the latest presence, and whether it is all of them */
  since: number;
  sinceWhole: boolean;
  /** the same for the remote camera */
  remoteSince: number;
  remoteSinceWhole: boolean;
}

/** Static facts of the run written once into meta. */
export interface RunMeta {
  source: string;
  model: string;
  windowMs: number;
}

/**
 * The filter thread's database side (the Skype Traffic Detector's filter): one transaction per
 * batch; flows upserted by flow ID and window rows by (flow, start), so a trace replayed twice
 * leaves the same rows; timeout sweep and pruning driven by the batch's clock, never the wall.
 *
 * Each store is one run (a row of `runs`); every flow and window row carries the run that wrote it
 * last. A flow another run wrote is taken over when this run first sees it: its counts start again
 * (the row stays one row), and windows of the earlier run count as new when replaced. The timeout
 * sweep and the pruning touch this run's rows only: another run's clock means nothing here.
 *
 * Every time written is pipeline time taken from the records themselves (window end, last packet,
 * timeout_at), not the batch clock, so the rows do not depend on how the records were batched.
 */
export class FlowStore {
  private readonly st: ReturnType<FlowStore['prepare']>;
  private readonly applyTx: (b: RecordBatch, recordsPerS: number) => void;
  private readonly deltas = new Map<string, FlowDelta>();
  /** flows this run has written (taken over) and not seen end: the takeover check is skipped for them */
  private readonly owned = new Set<string>();
  /** this run's id in `runs` */
  readonly run: number;

  constructor(
    private readonly db: Database.Database,
    private readonly opts: FlowStoreOptions,
  ) {
    this.run = Number(db.prepare('INSERT INTO runs (started_at) VALUES (?)').run(Date.now() / 1000).lastInsertRowid);
    this.st = this.prepare();
    this.applyTx = db.transaction((b: RecordBatch, recordsPerS: number) => {
      this.applyInTx(b);
      this.writeMeta(b.clock, b.stats, b.monitorStart, recordsPerS);
      if (b.final) this.setMeta('finished_at', b.clock);
    });
  }

  private prepare() {
    const db = this.db;
    return {
      oldWindow: db
        .prepare('SELECT packets, bytes, presence, run FROM windows WHERE flow_id = ? AND start = ?')
        .raw(true),
      newWindow: db.prepare(
        `INSERT INTO windows (end, packets, bytes, bitrate, raw, presence, probability, features, certainty, raw_probability,
                              remote_presence, remote_probability, run, flow_id, start)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (flow_id, start) DO NOTHING`,
      ),
      replaceWindow: db.prepare(
        `UPDATE windows SET end = ?, packets = ?, bytes = ?, bitrate = ?, raw = ?, presence = ?, probability = ?, features = ?,
           certainty = ?, raw_probability = ?, remote_presence = ?, remote_probability = ?, run = ?
         WHERE flow_id = ? AND start = ?`,
      ),
      // A flow another run wrote starts again as this run's (one row per flow ID all the same).
      takeover: db.prepare(
        `UPDATE flows SET run = @run, first_ts = @start, last_ts = @start, media_ts = NULL, packets = 0, bytes = 0,
           windows = 0, person_windows = 0, bitrate = 0, presence = 'unknown', probability = NULL, certainty = NULL,
           presence_since = NULL, remote_presence = 'unknown', remote_probability = NULL, remote_certainty = NULL,
           remote_since = NULL, timeout_at = @start, ended = 0, end_reason = NULL, ended_at = NULL, updated_at = @start
         WHERE flow_id = @id AND run != @run`,
      ),
      // A flow's window totals, once per flow per batch: update (the usual case), else insert.
      // (SET expressions see the row as it was: `presence` there is the presence before this batch.)
      windowFlowUpdate: db.prepare(
        `UPDATE flows SET app = ?, first_ts = min(first_ts, ?), last_ts = max(last_ts, ?),
           media_ts = min(coalesce(media_ts, ?), ?),
           packets = packets + ?, bytes = bytes + ?, windows = windows + ?, person_windows = person_windows + ?,
           bitrate = ?, presence = ?, probability = ?, certainty = ?,
           presence_since = CASE WHEN presence = ? AND ? THEN coalesce(presence_since, ?) ELSE ? END,
           remote_presence = ?, remote_probability = ?, remote_certainty = ?,
           remote_since = CASE WHEN remote_presence = ? AND ? THEN coalesce(remote_since, ?) ELSE ? END,
           timeout_at = max(timeout_at, ?), updated_at = max(updated_at, ?)
         WHERE flow_id = ?`,
      ),
      windowFlowInsert: db.prepare(
        `INSERT INTO flows (app, first_ts, last_ts, media_ts, packets, bytes, windows, person_windows,
                            bitrate, presence, probability, certainty, presence_since, remote_presence, remote_probability,
                            remote_certainty, remote_since, timeout_at, updated_at,
                            flow_id, src_ip, src_port, des_ip, des_port, protocol, run)
         VALUES (@app, @first, @last, @first, @dp, @db, @dw, @dpw, @bitrate, @presence, @probability, @certainty, @since,
                 @remotePresence, @remoteProbability, @remoteCertainty, @remoteSince,
                 @timeoutAt, @updated, @id, @srcIP, @srcPort, @desIP, @desPort, @protocol, @run)`,
      ),
      // No packets or bytes from the start event: the call's first windows, which follow it, count them.
      startFlow: db.prepare(
        `INSERT INTO flows (flow_id, app, src_ip, src_port, des_ip, des_port, protocol, first_ts, last_ts,
                            timeout_at, updated_at, call_certainty, call_reason, run)
         VALUES (@id, @app, @srcIP, @srcPort, @desIP, @desPort, @protocol, @start, @end, @timeoutAt, @end,
                 @callCertainty, @callReason, @run)
         ON CONFLICT(flow_id) DO UPDATE SET
           app = excluded.app,
           call_certainty = excluded.call_certainty, call_reason = excluded.call_reason,
           first_ts = min(first_ts, excluded.first_ts),
           last_ts = max(last_ts, excluded.last_ts),
           timeout_at = max(timeout_at, excluded.timeout_at),
           ended = 0, end_reason = NULL, ended_at = NULL,
           updated_at = max(updated_at, excluded.updated_at)`,
      ),
      endFlow: db.prepare(
        `INSERT INTO flows (flow_id, app, src_ip, src_port, des_ip, des_port, protocol, first_ts, last_ts,
                            packets, bytes, timeout_at, ended, end_reason, ended_at, updated_at, run)
         VALUES (@id, @app, @srcIP, @srcPort, @desIP, @desPort, @protocol, @start, @end, @packets, @bytes, @timeoutAt, 1, @reason,
                 @endedAt, @end, @run)
         ON CONFLICT(flow_id) DO UPDATE SET
           last_ts = max(last_ts, excluded.last_ts),
           packets = max(packets, excluded.packets), bytes = max(bytes, excluded.bytes),
           ended = 1, end_reason = excluded.end_reason, ended_at = excluded.ended_at,
           updated_at = max(updated_at, excluded.updated_at)`,
      ),
      sweep: db.prepare(
        "UPDATE flows SET ended = 1, end_reason = 'timeout', ended_at = timeout_at WHERE run = @run AND ended = 0 AND timeout_at <= @clock",
      ),
      pruneWindows: db.prepare(
        'DELETE FROM windows WHERE flow_id IN (SELECT flow_id FROM flows WHERE run = @run AND ended = 1 AND ended_at + @keep <= @clock)',
      ),
      pruneFlows: db.prepare('DELETE FROM flows WHERE run = @run AND ended = 1 AND ended_at + @keep <= @clock'),
      meta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Facts of the run, once at start. */
  writeRunMeta(run: RunMeta): void {
    this.db.transaction(() => {
      this.remapFeatures();
      // who wrote what: the history keeps every run, not only the last writer (schema 7)
      this.db
        .prepare('UPDATE runs SET source = ?, pid = ?, uid = ?, model = ?, window_ms = ? WHERE id = ?')
        .run(run.source, process.pid, process.geteuid?.() ?? null, run.model, run.windowMs, this.run);
      this.setMeta('run', this.run);
      this.setMeta('source', run.source);
      this.setMeta('model', run.model);
      this.setMeta('window_ms', run.windowMs);
      this.setMeta('timeout_s', this.opts.timeoutS);
      this.setMeta('keep_s', this.opts.keepS);
      this.setMeta('feature_names', JSON.stringify(this.opts.featureNames));
      this.st.meta.run('finished_at', null);
    })();
  }

  /** The run ended: its row in runs gets the end time and the final counters. */
  endRun(s: MeterStats, records: number): void {
    this.db
      .prepare('UPDATE runs SET ended_at = ?, packets = ?, drops = ?, records = ? WHERE id = ?')
      .run(Date.now() / 1000, s.packets, s.drops, records, this.run);
  }

  /** Stores one batch, and the counters it carries, in one transaction. */
  apply(batch: RecordBatch, recordsPerS: number): void {
    this.applyTx(batch, recordsPerS);
  }

  /**
   * The names of the stored features are kept once per database: windows an earlier spymate stored
   * with another feature list are rewritten by name into this run's order (NaN for a feature they
   * did not have), so the history keeps its meaning across an upgrade. Without readable names, only
   * windows of this run's width are taken to be in its order; the others' values become NaN.
   */
  private remapFeatures(): void {
    const stored = this.db.prepare("SELECT value FROM meta WHERE key = 'feature_names'").pluck().get() as
      string | undefined;
    const names = this.opts.featureNames;
    const before = parseFeatureNames(stored);
    if (before !== null && before.length === names.length && before.every((n, i) => n === names[i])) return;
    const from = before === null ? null : names.map((n) => before.indexOf(n));
    const update = this.db.prepare('UPDATE windows SET features = ? WHERE rowid = ?');
    const row = new Float64Array(names.length);
    // all first: one connection cannot write while it iterates (the history is a bounded keep period)
    for (const [id, blob] of this.db.prepare('SELECT rowid, features FROM windows').raw(true).all() as [
      number,
      Buffer,
    ][]) {
      const v = featureValues(blob);
      if (from === null) {
        if (v.length === names.length) continue;
        row.fill(NaN);
      } else {
        for (let i = 0; i < row.length; i++) row[i] = from[i] >= 0 && from[i] < v.length ? v[from[i]] : NaN;
      }
      update.run(featureBytes(row), id);
    }
  }

  private setMeta(key: string, value: string | number | null): void {
    this.st.meta.run(key, value === null ? null : String(value));
  }

  private writeMeta(clock: number, s: MeterStats, monitorStart: number | null, recordsPerS: number): void {
    this.setMeta('clock', clock);
    if (monitorStart !== null) this.setMeta('monitor_start', monitorStart);
    this.setMeta('packets', s.packets);
    this.setMeta('drops', s.drops);
    this.setMeta('drops_kernel', s.dropsKernel);
    this.setMeta('drops_interface', s.dropsInterface);
    this.setMeta('drops_meter', s.dropsMeter);
    this.setMeta('pps', Math.round(s.pps));
    this.setMeta('flows', s.flows);
    this.setMeta('calls', s.calls);
    this.setMeta('windows', s.windows);
    this.setMeta('records_per_s', Math.round(recordsPerS));
    this.setMeta('replay_position', s.replayPosition);
  }

  private applyInTx(b: RecordBatch): void {
    const deltas = this.deltas;
    for (const r of b.records) {
      if (r.event === 'window') {
        this.putWindow(r);
        continue;
      }
      // An event sees the flow's windows before it, as they came.
      const d = deltas.get(r.flowID);
      if (d) {
        this.writeFlowDelta(d);
        deltas.delete(r.flowID);
      }
      this.own(r.flowID, r.start);
      if (r.event === 'start') this.startFlow(r);
      else {
        this.endFlow(r);
        this.owned.delete(r.flowID);
      }
    }
    for (const d of deltas.values()) this.writeFlowDelta(d);
    deltas.clear();
    const clock = { run: this.run, clock: b.clock, keep: this.opts.keepS };
    this.st.sweep.run({ run: this.run, clock: b.clock });
    this.st.pruneWindows.run(clock);
    this.st.pruneFlows.run(clock);
  }

  /** Makes the flow this run's before this run first writes it (see the class comment). */
  private own(flowId: string, start: number): void {
    if (this.owned.has(flowId)) return;
    this.st.takeover.run({ id: flowId, run: this.run, start });
    this.owned.add(flowId);
  }

  private writeFlowDelta(d: FlowDelta): void {
    const w = d.latest;
    const sinceWhole = d.sinceWhole ? 1 : 0;
    const remoteSinceWhole = d.remoteSinceWhole ? 1 : 0;
    // positional: binding by name costs a property lookup per parameter, and this runs per flow per batch
    const updated = this.st.windowFlowUpdate.run(
      w.app,
      d.first,
      d.last,
      d.first,
      d.first,
      d.dp,
      d.db,
      d.dw,
      d.dpw,
      d.bitrate,
      w.presence,
      w.probability,
      w.certainty,
      w.presence,
      sinceWhole,
      d.since,
      d.since,
      w.remotePresence,
      w.remoteProbability,
      w.remoteCertainty,
      w.remotePresence,
      remoteSinceWhole,
      d.remoteSince,
      d.remoteSince,
      d.timeoutAt,
      d.updated,
      w.flowID,
    );
    if (updated.changes === 0) {
      this.st.windowFlowInsert.run({
        id: w.flowID,
        app: w.app,
        first: d.first,
        last: d.last,
        dp: d.dp,
        db: d.db,
        dw: d.dw,
        dpw: d.dpw,
        bitrate: d.bitrate,
        presence: w.presence,
        probability: w.probability,
        certainty: w.certainty,
        since: d.since,
        remotePresence: w.remotePresence,
        remoteProbability: w.remoteProbability,
        remoteCertainty: w.remoteCertainty,
        remoteSince: d.remoteSince,
        timeoutAt: d.timeoutAt,
        updated: d.updated,
        srcIP: w.srcIP,
        srcPort: w.srcPort,
        desIP: w.desIP,
        desPort: w.desPort,
        protocol: w.protocol,
        run: this.run,
      });
    }
  }

  private flowParams(r: FlowEventOut | WindowOut) {
    return {
      id: r.flowID,
      app: r.app,
      srcIP: r.srcIP,
      srcPort: r.srcPort,
      desIP: r.desIP,
      desPort: r.desPort,
      protocol: r.protocol,
      start: r.start,
      end: r.end,
    };
  }

  private putWindow(w: WindowOut): void {
    const person = w.presence === 'person' ? 1 : 0;
    const remote = w.remotePresence === 'person' ? 1 : w.remotePresence === 'background' ? 0 : null;
    const bitrate = w.end > w.start ? (w.bytes * 8) / (w.end - w.start) : 0;
    const row = [
      w.end,
      w.packets,
      w.bytes,
      bitrate,
      w.raw,
      w.presence === 'person' || w.presence === 'background' ? person : null,
      w.probability,
      featureBytes(w.features),
      w.certainty,
      w.rawProbability,
      remote,
      w.remoteProbability,
      this.run,
      w.flowID,
      w.start,
    ];
    this.own(w.flowID, w.start);
    // New windows (the live case) cost one insert; a replayed one replaces itself and the flow
    // totals move by the difference only (an earlier run's window counts as new: the flow started again).
    let old: [number, number, number | null, number] | undefined;
    if (this.st.newWindow.run(row).changes === 0) {
      old = this.st.oldWindow.get(w.flowID, w.start) as [number, number, number | null, number];
      this.st.replaceWindow.run(row);
      if (old[3] !== this.run) old = undefined;
    }
    const last = w.packets > 0 ? w.end : w.start;
    let d = this.deltas.get(w.flowID);
    if (!d) {
      d = {
        latest: w,
        first: w.start,
        last,
        dp: 0,
        db: 0,
        dw: 0,
        dpw: 0,
        bitrate,
        timeoutAt: 0,
        updated: w.end,
        since: w.start,
        sinceWhole: true,
        remoteSince: w.start,
        remoteSinceWhole: true,
      };
      this.deltas.set(w.flowID, d);
    } else {
      if (w.presence !== d.latest.presence) {
        d.since = w.start;
        d.sinceWhole = false;
      }
      if (w.remotePresence !== d.latest.remotePresence) {
        d.remoteSince = w.start;
        d.remoteSinceWhole = false;
      }
    }
    d.latest = w;
    if (w.start < d.first) d.first = w.start;
    if (last > d.last) d.last = last;
    if (w.end > d.updated) d.updated = w.end;
    d.dp += w.packets - (old ? old[0] : 0);
    d.db += w.bytes - (old ? old[1] : 0);
    d.dw += old ? 0 : 1;
    d.dpw += person - (old && old[2] === 1 ? 1 : 0);
    d.bitrate = bitrate;
    d.timeoutAt = d.last + this.opts.timeoutS;
  }

  private startFlow(r: FlowEventOut): void {
    this.st.startFlow.run({
      ...this.flowParams(r),
      run: this.run,
      timeoutAt: r.end + this.opts.timeoutS,
      callCertainty: r.callCertainty,
      callReason: r.callReason ?? null,
    });
  }

  private endFlow(r: FlowEventOut): void {
    this.st.endFlow.run({
      ...this.flowParams(r),
      run: this.run,
      packets: r.packets,
      bytes: r.bytes,
      timeoutAt: r.end + this.opts.timeoutS,
      reason: r.reason ?? 'end-of-trace',
      endedAt: r.end,
    });
  }
}
