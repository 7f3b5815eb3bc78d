import type { FlowEventOut, LiveRecord, WindowOut } from '../types';
import type { FlowRow } from '../view-types';

/**
 * One `flows` row as the sensor holds it (db/postgres/schema.sql): the row the UI reads, without
 * the sensor's name and clock, `ended` a boolean as PostgreSQL keeps it, and no `run` (PostgreSQL
 * has sensors instead: a restarted sensor writes over its own rows).
 */
export type FlowState = Omit<FlowRow, 'ended' | 'sensor' | 'sensor_clock' | 'sensor_start' | 'run'> & {
  ended: boolean;
};

interface Held {
  row: FlowState;
  /** bumped at every change: a row written while it changed again stays dirty */
  version: number;
  /** when the row was last written (ms, the caller's clock); 0: never */
  writtenAt: number;
}

/**
 * The sensor's flows, held in memory and written whole: the same values the SQLite filter thread
 * reaches with its per-batch upserts (src/store/flow-store.ts, record by record in the same order),
 * so the row a sensor writes needs no read of the one stored. Rows leave memory `keepS` after their
 * end (SQLite deletes them then; the PostgreSQL history keeps them).
 */
export class FlowStates {
  private readonly held = new Map<string, Held>();
  private readonly dirty = new Set<string>();

  constructor(private readonly opts: { timeoutS: number; keepS: number }) {}

  get size(): number {
    return this.held.size;
  }

  get dirtyCount(): number {
    return this.dirty.size;
  }

  apply(r: LiveRecord): void {
    if (r.event === 'window') this.window(r);
    else if (r.event === 'start') this.start(r);
    else this.end(r);
  }

  private touch(id: string, h: Held): void {
    h.version++;
    this.dirty.add(id);
  }

  private fresh(r: LiveRecord): FlowState {
    return {
      flow_id: r.flowID,
      app: r.app,
      src_ip: r.srcIP,
      src_port: r.srcPort,
      des_ip: r.desIP,
      des_port: r.desPort,
      protocol: r.protocol,
      first_ts: r.start,
      last_ts: r.end,
      media_ts: null,
      packets: 0,
      bytes: 0,
      bitrate: 0,
      windows: 0,
      person_windows: 0,
      presence: 'unknown',
      probability: null,
      certainty: null,
      presence_since: null,
      remote_presence: 'unknown',
      remote_probability: null,
      remote_certainty: null,
      remote_since: null,
      timeout_at: r.end + this.opts.timeoutS,
      ended: false,
      end_reason: null,
      ended_at: null,
      updated_at: r.end,
      call_certainty: r.callCertainty,
      call_reason: r.event === 'start' ? (r.callReason ?? null) : null,
    };
  }

  private window(w: WindowOut): void {
    const last = w.packets > 0 ? w.end : w.start;
    const bitrate = w.end > w.start ? (w.bytes * 8) / (w.end - w.start) : 0;
    let h = this.held.get(w.flowID);
    if (!h) {
      const row = this.fresh(w);
      row.first_ts = w.start;
      row.last_ts = last;
      row.timeout_at = last + this.opts.timeoutS;
      h = { row, version: 0, writtenAt: 0 };
      this.held.set(w.flowID, h);
    }
    const f = h.row;
    f.app = w.app;
    f.first_ts = Math.min(f.first_ts, w.start);
    f.last_ts = Math.max(f.last_ts, last);
    f.media_ts = Math.min(f.media_ts ?? w.start, w.start);
    f.packets += w.packets;
    f.bytes += w.bytes;
    f.windows++;
    if (w.presence === 'person') f.person_windows++;
    f.bitrate = bitrate;
    // a presence run goes on while the presence stays; the first window of a new one starts it
    if (f.presence !== w.presence || f.presence_since === null) f.presence_since = w.start;
    f.presence = w.presence;
    f.probability = w.probability;
    f.certainty = w.certainty;
    if (f.remote_presence !== w.remotePresence || f.remote_since === null) f.remote_since = w.start;
    f.remote_presence = w.remotePresence;
    f.remote_probability = w.remoteProbability;
    f.remote_certainty = w.remoteCertainty;
    f.timeout_at = Math.max(f.timeout_at, last + this.opts.timeoutS);
    f.updated_at = Math.max(f.updated_at, w.end);
    this.touch(w.flowID, h);
  }

  private start(r: FlowEventOut): void {
    const h = this.held.get(r.flowID);
    // No packets or bytes from the start event: the call's first windows, which follow it, count them.
    if (!h) {
      const row = this.fresh(r);
      this.held.set(r.flowID, { row, version: 0, writtenAt: 0 });
      this.dirty.add(r.flowID);
      return;
    }
    const f = h.row;
    f.app = r.app;
    f.first_ts = Math.min(f.first_ts, r.start);
    f.last_ts = Math.max(f.last_ts, r.end);
    f.timeout_at = Math.max(f.timeout_at, r.end + this.opts.timeoutS);
    f.ended = false;
    f.end_reason = null;
    f.ended_at = null;
    f.updated_at = Math.max(f.updated_at, r.end);
    f.call_certainty = r.callCertainty;
    f.call_reason = r.callReason ?? null;
    this.touch(r.flowID, h);
  }

  private end(r: FlowEventOut): void {
    let h = this.held.get(r.flowID);
    if (!h) {
      h = { row: this.fresh(r), version: 0, writtenAt: 0 };
      this.held.set(r.flowID, h);
    }
    const f = h.row;
    f.last_ts = Math.max(f.last_ts, r.end);
    f.packets = Math.max(f.packets, r.packets);
    f.bytes = Math.max(f.bytes, r.bytes);
    f.ended = true;
    f.end_reason = r.reason ?? 'end-of-trace';
    f.ended_at = r.end;
    f.updated_at = Math.max(f.updated_at, r.end);
    this.touch(r.flowID, h);
  }

  /** Timeouts at `clock` (as SQLite's sweep), and rows ended more than keepS ago leave memory. */
  sweep(clock: number): void {
    for (const [id, h] of this.held) {
      const f = h.row;
      if (!f.ended && f.timeout_at <= clock) {
        f.ended = true;
        f.end_reason = 'timeout';
        f.ended_at = f.timeout_at;
        this.touch(id, h);
      } else if (f.ended && (f.ended_at ?? 0) + this.opts.keepS <= clock && !this.dirty.has(id)) {
        this.held.delete(id);
      }
    }
  }

  /**
   * The rows changed since they were last written that are due, each with the version it was taken
   * at: a new or ended flow at once, one that goes on at most every `everyMs` (the view reads once a
   * second; a call's row changes with each of its windows, and writing it costs the server more
   * than the window itself).
   */
  takeDirty(now: number, everyMs: number): Array<{ row: FlowState; version: number }> {
    const out: Array<{ row: FlowState; version: number }> = [];
    for (const id of this.dirty) {
      const h = this.held.get(id);
      if (h && (h.writtenAt === 0 || h.row.ended || now - h.writtenAt >= everyMs))
        out.push({ row: { ...h.row }, version: h.version });
    }
    return out;
  }

  /** After a write at `now`: rows unchanged since they were taken are clean. */
  written(taken: ReadonlyArray<{ row: FlowState; version: number }>, now: number): void {
    for (const t of taken) {
      const h = this.held.get(t.row.flow_id);
      if (h) h.writtenAt = now;
      if (!h || h.version === t.version) this.dirty.delete(t.row.flow_id);
    }
  }
}
