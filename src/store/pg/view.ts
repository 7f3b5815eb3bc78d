/**
 * The one view's reads from the PostgreSQL store: every sensor's flows on show (live ones, and
 * ended ones for their sensor's keep time), filtered and sorted by the server, the full rows of
 * those on screen, a flow's windows, and the sensors' last reports. Read-only: the session is set
 * read-only, and nothing here writes. Async (pg); the TUI's cache (tui/remote-reader.ts) turns it
 * into the synchronous reader the UI asks.
 */
import { Client, types as pgTypes } from 'pg';
import { sortSql } from '../sort-sql';
import { featureValues } from '../features-blob';
import {
  emptySnapshot,
  rowKey,
  type FlowRow,
  type Meta,
  type SensorStatus,
  type Snapshot,
  type SortKey,
  type WindowRow,
} from '../view-types';
import type { MeterStats } from '../types';
import { isTransient } from './migrate';
import type { PgTarget } from './target';

/** The display filter in the store's terms: a flow shows when any part matches. */
export interface ViewFilter {
  /** IPv4 patterns as value and mask: either endpoint */
  v4: ReadonlyArray<{ value: number; mask: number }>;
  /** IPv6 prefixes (CIDR text): either endpoint */
  v6: readonly string[];
  /** sensor names, `*` for any characters, case-insensitive */
  sensors: readonly string[];
}

/** The sort: a sort key (store/sort-sql.ts's SQL, translated here) and direction. */
export interface ViewOrder {
  key: SortKey;
  desc: boolean;
  /** a text column: compared byte by byte, as SQLite does (and much faster than a locale's rules) */
  text: boolean;
}

/** A sensor that has not reported for this long while running has gone quiet. */
export const QUIET_S = 10;

const INT8_OID = 20;

const FLOW_FIELDS =
  'flow_id, app, src_ip, src_port, des_ip, des_port, protocol, first_ts, last_ts, media_ts, packets, bytes, bitrate, ' +
  'windows, person_windows, presence, probability, certainty, timeout_at, ended, end_reason, ended_at, updated_at, sensor, ' +
  'call_certainty, call_reason, presence_since, remote_presence, remote_probability, remote_certainty, remote_since';

/** The flows on show, with their sensor's clock and start (the columns that count from them). */
const VISIBLE = `WITH v AS (
  SELECT f.*, s.clock AS sensor_clock, s.monitor_start AS sensor_start
  FROM sensors s JOIN flows f ON f.sensor = s.sensor
  WHERE NOT f.ended OR f.ended_at > s.clock - s.keep_s)`;

const SENSORS = `SELECT s.sensor, s.state, s.model, s.clock, s.monitor_start, s.window_ms, s.timeout_s, s.keep_s,
    s.packets, s.drops, s.pps, s.flows, s.calls, s.windows, s.records_per_s,
    extract(epoch FROM s.reported_at)::float8 AS reported, extract(epoch FROM now() - s.reported_at)::float8 AS ago,
    EXISTS (SELECT 1 FROM flows f WHERE f.sensor = s.sensor AND (NOT f.ended OR f.ended_at > s.clock - s.keep_s)) AS shown
  FROM sensors s ORDER BY s.sensor`;

/** A sensors row: the meter's counters as the sensor last reported them, and more. */
interface SensorRow extends Omit<MeterStats, 'replayPosition'> {
  sensor: string;
  state: string;
  model: string;
  clock: number | null;
  monitor_start: number | null;
  window_ms: number;
  timeout_s: number;
  keep_s: number;
  records_per_s: number;
  reported: number;
  ago: number;
  /** has flows on show */
  shown: boolean;
}

/** `abc@berlin` → ['berlin', 'abc']: the view's row keys (view-types.ts rowKey). */
export function splitKey(key: string): [sensor: string, flowId: string] {
  const at = key.indexOf('@');
  return at < 0 ? ['', key] : [key.slice(at + 1), key.slice(0, at)];
}

/** A sort key in PostgreSQL: the SQLite reader's expression, the same functions under their names there. */
export function pgOrderExpr(o: Pick<ViewOrder, 'key'>): string {
  if (o.key === 'sensor') return 'sensor';
  // PostgreSQL keeps sensors instead of runs (a restarted sensor writes over its own rows): no run to sort by
  if (o.key === 'run') return 'NULL';
  return sortSql(o.key)
    .replace(/\bmax\(/g, 'GREATEST(')
    .replace(/\bmin\(/g, 'LEAST(')
    .replace(/@clock\b/g, 'sensor_clock')
    .replace(/@start\b/g, 'sensor_start');
}

/** The WHERE of the filter over v, with its parameters numbered from `first`. */
export function filterSql(f: ViewFilter, first: number): { sql: string; params: unknown[] } {
  const parts: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${first + params.length - 1}`;
  };
  for (const { value, mask } of f.v4) {
    const [m, v] = [p(mask), p(value)];
    parts.push(
      `(spymate_v4(src_ip) & ${m}::bigint) = ${v}::bigint OR (spymate_v4(des_ip) & ${m}::bigint) = ${v}::bigint`,
    );
  }
  for (const cidr of f.v6) {
    const c = p(cidr);
    parts.push(
      `(src_ip::inet <<= ${c}::inet AND family(src_ip::inet) = 6) OR (des_ip::inet <<= ${c}::inet AND family(des_ip::inet) = 6)`,
    );
  }
  for (const glob of f.sensors) parts.push(`sensor ILIKE ${p(glob.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%'))}`);
  return { sql: parts.length === 0 ? '' : `WHERE ${parts.join(' OR ')}`, params };
}

/** PostgreSQL's row as the UI's: `ended` 0/1, and no run (the run column shows `-` for a sensor's row). */
function toFlowRow(r: Record<string, unknown>): FlowRow {
  return { ...(r as unknown as Omit<FlowRow, 'run'>), run: 0, ended: r.ended ? 1 : 0 };
}

const PRESENCE_CODE: Record<string, number> = { person: 1, background: 0 };

export class PgView {
  private client: Client | null = null;
  private connecting: Promise<Client> | null = null;
  private readonly featureNames = new Map<string, string[]>();

  constructor(private readonly target: PgTarget) {}

  private async connected(): Promise<Client> {
    if (this.client) return this.client;
    if (!this.connecting) {
      this.connecting = (async () => {
        const c = new Client({
          ...this.target.config,
          application_name: 'spymate view',
          connectionTimeoutMillis: 5000,
          query_timeout: 10000,
          types: {
            getTypeParser: (oid: number, format?: 'text' | 'binary') =>
              oid === INT8_OID ? Number : pgTypes.getTypeParser(oid, format),
          },
        });
        c.on('error', () => {
          if (this.client === c) this.client = null;
        });
        try {
          await c.connect();
          await c.query('SET default_transaction_read_only = on');
        } catch (err) {
          await c.end().catch(() => undefined);
          throw err;
        }
        this.client = c;
        return c;
      })().finally(() => (this.connecting = null));
    }
    return this.connecting;
  }

  private async query<T extends object>(sql: string, params: unknown[] = []): Promise<T[]> {
    const c = await this.connected();
    try {
      return (await c.query<T>(sql, params)).rows;
    } catch (err) {
      if (isTransient(err)) {
        this.client = null;
        void c.end().catch(() => undefined);
      }
      throw err;
    }
  }

  /** The sensors, the flows on show in order, and the totals: one snapshot. */
  async snapshot(filter: ViewFilter, order: ViewOrder): Promise<Snapshot> {
    try {
      const sensors = (await this.query<SensorRow>(SENSORS)).filter((s) => s.state === 'running' || s.shown);
      const e = `(${pgOrderExpr(order)})`;
      const where = filterSql(filter, 1);
      // one value, not 10 000 rows: the keys (rowKey's flowID@sensor) in order, joined; and the unfiltered total beside it
      const orderBy =
        `${e} IS NULL, ${e}${order.text ? ' COLLATE "C"' : ''} ${order.desc ? 'DESC' : 'ASC'}, ` +
        'sensor COLLATE "C", flow_id COLLATE "C"';
      const [{ total, keys }] = await this.query<{ total: number; keys: string | null }>(
        `${VISIBLE} SELECT count(*)::int AS total, string_agg(flow_id || '@' || sensor, ' ' ORDER BY ${orderBy})` +
          `${where.sql ? ` FILTER (${where.sql})` : ''} AS keys FROM v`,
        where.params,
      );
      return {
        ok: true,
        problem: null,
        meta: aggregateMeta(sensors),
        total,
        ended: 0,
        order: keys ? keys.split(' ') : [],
        sensors: sensors.map((s): SensorStatus => ({
          name: s.sensor,
          state: s.state === 'running' ? 'running' : 'stopped',
          reportedAt: s.reported,
          agoS: s.ago,
          quiet: s.state === 'running' && s.ago > QUIET_S,
        })),
      };
    } catch (err) {
      return emptySnapshot(this.problem(err));
    }
  }

  private problem(err: unknown): string {
    const e = err as { code?: string; message?: string };
    if (e.code === '42P01') return `waiting for a sensor to create the tables in ${this.target.display}`;
    return `cannot read ${this.target.display}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : (e.message ?? String(err))}; trying again`;
  }

  /** The full rows of these flows (row keys), with their sensor's clock and start. */
  async rows(keys: readonly string[]): Promise<FlowRow[]> {
    if (keys.length === 0) return [];
    const pairs = keys.map(splitKey);
    const rows = await this.query<Record<string, unknown>>(
      `SELECT ${FLOW_FIELDS.replace(/(^|, )/g, '$1f.')}, s.clock AS sensor_clock, s.monitor_start AS sensor_start
       FROM flows f JOIN sensors s ON s.sensor = f.sensor
       WHERE (f.sensor, f.flow_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))`,
      [pairs.map((p) => p[0]), pairs.map((p) => p[1])],
    );
    return rows.map(toFlowRow);
  }

  /** The last `limit` windows of a flow, oldest first, features by name (or none: a third of the cost). */
  async windows(key: string, limit: number, features: boolean): Promise<WindowRow[]> {
    const [sensor, flowId] = splitKey(key);
    let names = this.featureNames.get(sensor);
    if (!names) {
      const r = await this.query<{ feature_names: string[] }>('SELECT feature_names FROM sensors WHERE sensor = $1', [
        sensor,
      ]);
      names = r[0]?.feature_names ?? [];
      this.featureNames.set(sensor, names);
    }
    const rows = await this.query<
      Record<string, unknown> & { presence: string; remote_presence: string; features?: Buffer }
    >(
      `SELECT start, "end", packets, bytes, bitrate, raw, raw_probability, presence, probability, certainty,
         remote_presence, remote_probability ${features ? ', features' : ''}
       FROM windows WHERE sensor = $1 AND flow_id = $2 ORDER BY start DESC LIMIT $3`,
      [sensor, flowId, limit],
    );
    rows.reverse();
    const n = names;
    return rows.map((r) => {
      const byName: Record<string, number> = {};
      if (r.features) featureValues(r.features).forEach((v, i) => (byName[n[i] ?? `feature${i}`] = v));
      return {
        ...(r as unknown as WindowRow),
        presence: PRESENCE_CODE[r.presence] ?? null,
        remote_presence: PRESENCE_CODE[r.remote_presence] ?? null,
        features: byName,
      };
    });
  }

  /** Keys of the flows on show whose ID, address, port, app, presence or sensor contain `term` (a port by its digits, as in SQLite). */
  async search(term: string): Promise<string[]> {
    const t = term.toLowerCase();
    const rows = await this.query<{ sensor: string; flow_id: string }>(
      `${VISIBLE} SELECT sensor, flow_id FROM v WHERE strpos(lower(flow_id), $1) > 0 OR strpos(lower(src_ip), $1) > 0
         OR strpos(lower(des_ip), $1) > 0 OR strpos(lower(app), $1) > 0 OR strpos(lower(presence), $1) > 0
         OR strpos(lower(sensor), $1) > 0 OR strpos(src_port::text, $1) > 0 OR strpos(des_port::text, $1) > 0`,
      [t],
    );
    return rows.map(rowKey);
  }

  async close(): Promise<void> {
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}

/** The sensors' counters as one Meta: sums of the counts, the earliest start, the latest clock. */
function aggregateMeta(sensors: readonly SensorRow[]): Meta {
  const sum = (f: (s: SensorRow) => number): number => sensors.reduce((n, s) => n + f(s), 0);
  const one = <T>(f: (s: SensorRow) => T): T | null => {
    const values = [...new Set(sensors.map(f))];
    return values.length === 1 ? values[0] : null;
  };
  const starts = sensors.map((s) => s.monitor_start).filter((v): v is number => v !== null);
  const clocks = sensors.map((s) => s.clock).filter((v): v is number => v !== null);
  const models = [...new Set(sensors.map((s) => s.model))];
  return {
    source: `${sensors.length} sensor${sensors.length === 1 ? '' : 's'}`,
    monitorStart: starts.length ? Math.min(...starts) : null,
    clock: clocks.length ? Math.max(...clocks) : null,
    model: models.length ? models.join(',') : null,
    windowMs: one((s) => s.window_ms),
    timeoutS: one((s) => s.timeout_s),
    keepS: one((s) => s.keep_s),
    packets: sum((s) => s.packets),
    drops: sum((s) => s.drops),
    // a rate is now: only sensors that are reporting have one
    pps: sum((s) => (s.state === 'running' && s.ago <= QUIET_S ? s.pps : 0)),
    flows: sum((s) => s.flows),
    calls: sum((s) => s.calls),
    windows: sum((s) => s.windows),
    recordsPerS: sum((s) => (s.state === 'running' && s.ago <= QUIET_S ? s.records_per_s : 0)),
    replayPosition: null,
    finishedAt: null,
  };
}
