import fs from 'node:fs';
import Database from 'better-sqlite3';
import { featureValues, parseFeatureNames } from '../store/features-blob';
import { matchesAny, type IpPattern } from './filter';
import { decodeMeta, emptySnapshot } from './snapshot';
import type { FlowRow, Snapshot, WindowRow } from './types';
import type { ViewQuery, ViewReader } from './view-reader';

export type { ViewQuery } from './view-reader';

/** The flows columns, in FlowRow order. */
const FLOW_COLUMNS =
  'flow_id, app, src_ip, src_port, des_ip, des_port, protocol, first_ts, last_ts, media_ts, packets, bytes, bitrate, ' +
  'windows, person_windows, presence, probability, certainty, timeout_at, ended, end_reason, ended_at, updated_at, ' +
  'call_certainty, call_reason';

type FlowTuple = [
  string,
  string,
  string,
  number,
  string,
  number,
  string,
  number,
  number,
  number | null,
  number,
  number,
  number,
  number,
  number,
  string,
  number | null,
  number | null,
  number,
  number,
  string | null,
  number | null,
  number,
  number | null,
  string | null,
];

/** Rows come from SQLite as arrays (better-sqlite3 builds row objects five times slower) and are shaped here. */
function toFlowRow(t: FlowTuple): FlowRow {
  return {
    flow_id: t[0],
    app: t[1],
    src_ip: t[2],
    src_port: t[3],
    des_ip: t[4],
    des_port: t[5],
    protocol: t[6],
    first_ts: t[7],
    last_ts: t[8],
    media_ts: t[9],
    packets: t[10],
    bytes: t[11],
    bitrate: t[12],
    windows: t[13],
    person_windows: t[14],
    presence: t[15],
    probability: t[16],
    certainty: t[17],
    timeout_at: t[18],
    ended: t[19],
    end_reason: t[20],
    ended_at: t[21],
    updated_at: t[22],
    call_certainty: t[23],
    call_reason: t[24],
  };
}

/** `/` searches these fields: what a user may remember of a flow. */
const SEARCH_SQL =
  'SELECT flow_id FROM flows WHERE instr(lower(flow_id), @t) OR instr(lower(src_ip), @t) OR instr(lower(des_ip), @t) ' +
  'OR instr(lower(app), @t) OR instr(lower(presence), @t) OR CAST(src_port AS TEXT) = @t OR CAST(des_port AS TEXT) = @t';

interface Statements {
  meta: Database.Statement<[], { key: string; value: string | null }>;
  count: Database.Statement<[], number>;
  rows: Database.Statement<[string], FlowTuple>;
  search: Database.Statement<[{ t: string }], string>;
  windows: Database.Statement<[string, number], Omit<WindowRow, 'features'> & { features: Buffer }>;
  featureNames: Database.Statement<[], string | undefined>;
}

/**
 * The UI's only way into the database: a read-only connection, opened when the file and its tables
 * exist, never writing, holding a read transaction only for
 * the few milliseconds of one query, so the filter thread's WAL writes are never blocked.
 * Filtering and sorting run in SQLite; JavaScript sees the IDs in order and the rows on screen.
 */
export class DbReader implements ViewReader {
  private db: Database.Database | null = null;
  private stmts: Statements | null = null;
  private readonly orderStmts = new Map<string, Database.Statement<Record<string, number | null>, string>>();
  private version = -1;
  /** the patterns the SQL filter function tests against, set for each query */
  private patterns: readonly IpPattern[] = [];

  constructor(readonly dbPath: string) {}

  private open(): string | null {
    if (this.stmts) return null;
    if (!fs.existsSync(this.dbPath)) return `waiting for the database ${this.dbPath} to be created`;
    try {
      const db = new Database(this.dbPath, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 50');
      const tables = new Set(
        (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map(
          (r) => r.name,
        ),
      );
      if (!tables.has('flows') || !tables.has('meta') || !tables.has('windows')) {
        db.close();
        return `waiting for the engine to create the tables in ${this.dbPath}`;
      }
      db.function('spymate_shown', { deterministic: false }, (src: unknown, des: unknown) =>
        matchesAny(this.patterns, String(src), String(des)) ? 1 : 0,
      );
      this.db = db;
      this.version = db.pragma('data_version', { simple: true }) as number;
      this.stmts = {
        meta: db.prepare('SELECT key, value FROM meta'),
        count: (db.prepare('SELECT count(*) FROM flows') as Database.Statement<[], number>).pluck(),
        rows: (
          db.prepare(
            `SELECT ${FLOW_COLUMNS} FROM flows WHERE flow_id IN (SELECT value FROM json_each(?))`,
          ) as Statements['rows']
        ).raw(true),
        search: (db.prepare(SEARCH_SQL) as Statements['search']).pluck(),
        windows: prepareWindows(db),
        featureNames: (
          db.prepare("SELECT value FROM meta WHERE key = 'feature_names'") as Statements['featureNames']
        ).pluck(),
      };
      return null;
    } catch (err) {
      this.close();
      return `cannot read ${this.dbPath}: ${(err as Error).message}`;
    }
  }

  /**
   * False when nothing was committed since the last look (SQLite's data_version): an idle UI then
   * costs one pragma per refresh.
   */
  changed(): boolean {
    if (!this.db) return true;
    try {
      const v = this.db.pragma('data_version', { simple: true }) as number;
      if (v === this.version) return false;
      this.version = v;
      return true;
    } catch {
      return true;
    }
  }

  private orderStatement(q: ViewQuery): Database.Statement<Record<string, number | null>, string> {
    const filtered = q.patterns.length > 0;
    const key = `${q.sort.column.num}/${q.sort.desc}/${filtered}`;
    let st = this.orderStmts.get(key);
    if (!st) {
      const e = `(${q.sort.column.sql})`;
      const where = filtered ? 'WHERE spymate_shown(src_ip, des_ip)' : '';
      const sql = `SELECT flow_id FROM flows ${where} ORDER BY ${e} IS NULL, ${e} ${q.sort.desc ? 'DESC' : 'ASC'}, flow_id`;
      st = (this.db as Database.Database).prepare(sql).pluck() as Database.Statement<
        Record<string, number | null>,
        string
      >;
      this.orderStmts.set(key, st);
    }
    return st;
  }

  /** Meta, the total, and the IDs of the flows to show, in order: one consistent read. */
  read(q: ViewQuery): Snapshot {
    const problem = this.open();
    if (problem !== null || !this.stmts || !this.db) return emptySnapshot(problem ?? 'database not open');
    const stmts = this.stmts;
    try {
      return this.db.transaction((): Snapshot => {
        const meta = decodeMeta(stmts.meta.all());
        const st = this.orderStatement(q);
        const params: Record<string, number | null> = {};
        if (q.sort.column.sql.includes('@clock')) params.clock = meta.clock;
        if (q.sort.column.sql.includes('@start')) params.start = meta.monitorStart;
        this.patterns = q.patterns;
        return { ok: true, problem: null, meta, total: stmts.count.get() as number, order: st.all(params) };
      })();
    } catch (err) {
      return emptySnapshot(`cannot read ${this.dbPath}: ${(err as Error).message}`);
    }
  }

  /** The full rows of these flows (those on screen, the selected one, the marked ones). */
  rows(ids: readonly string[]): FlowRow[] {
    if (!this.stmts || ids.length === 0) return [];
    try {
      return this.stmts.rows.all(JSON.stringify(ids)).map(toFlowRow);
    } catch {
      return [];
    }
  }

  /** IDs of the flows whose ID, address, port, app or presence contain `term` (case-insensitive). */
  search(term: string): string[] {
    if (!this.stmts || term === '') return [];
    try {
      return this.stmts.search.all({ t: term.toLowerCase() });
    } catch {
      return [];
    }
  }

  /** The last `limit` windows of a flow, oldest first. */
  recentWindows(flowId: string, limit: number): WindowRow[] {
    if (!this.stmts) return [];
    try {
      const rows = this.stmts.windows.all(flowId, limit);
      rows.reverse();
      const names = parseFeatureNames(this.stmts.featureNames.get()) ?? [];
      return rows.map((r) => ({ ...r, features: parseFeatures(r.features, names) }));
    } catch {
      return [];
    }
  }

  close(): void {
    this.db?.close();
    this.db = null;
    this.stmts = null;
    this.orderStmts.clear();
    this.version = -1;
  }
}

/** The UI opens the database after the filter thread has brought it to the current schema. */
function prepareWindows(db: Database.Database): Statements['windows'] {
  return db.prepare(
    'SELECT start, end, packets, bytes, bitrate, raw, raw_probability, presence, probability, certainty, features ' +
      'FROM windows WHERE flow_id = ? ORDER BY start DESC LIMIT ?',
  );
}

/** A window's features (float64 bytes in the order of meta `feature_names`, the names once per database) by name. */
function parseFeatures(blob: Buffer, names: readonly string[]): Record<string, number> {
  const values = featureValues(blob);
  const out: Record<string, number> = {};
  for (let i = 0; i < values.length; i++) out[names[i] ?? `feature${i}`] = values[i];
  return out;
}
