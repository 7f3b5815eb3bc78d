import fs from 'node:fs';
import Database from 'better-sqlite3';
import { featureValues, parseFeatureNames } from './features-blob';
import { FLOW_COLUMNS, selectList, shapeRow, WINDOW_COLUMNS } from './flow-columns';
import { decodeMeta } from './meta';
import { sortSql } from './sort-sql';
import { emptySnapshot, type FlowRow, type Snapshot, type SortKey, type WindowRow } from './view-types';

/** The display filter: which flows the table shows, by their two addresses. */
export interface AddressFilter {
  matches(srcIp: string, desIp: string): boolean;
}

/** What the table asks of the database: a run's flows (the display filter) in which order. */
export interface SqliteQuery {
  /** the run whose rows to show (its id in the database), or null: every run's */
  run: number | null;
  /** null: every flow */
  filter: AddressFilter | null;
  sort: { key: SortKey; desc: boolean };
}

/** `/` searches these fields: what a user may remember of a flow (a port by its digits: 4744 finds 47440). */
const SEARCH_SQL =
  'SELECT flow_id FROM flows WHERE (@run IS NULL OR run = @run) AND (instr(lower(flow_id), @t) OR instr(lower(src_ip), @t) ' +
  'OR instr(lower(des_ip), @t) OR instr(lower(app), @t) OR instr(lower(presence), @t) OR instr(src_port, @t) OR instr(des_port, @t))';

/**
 * A run's rows and how many of them ended: two counts of the index flows_run(run, ended), never the
 * table (summing `ended` over the rows cost 2 ms a refresh at 10 000 flows, the index 0.4 ms).
 */
const COUNT_RUN_SQL =
  'SELECT (SELECT count(*) FROM flows WHERE run = @run), (SELECT count(*) FROM flows WHERE run = @run AND ended = 1)';
/** Every run's (the history): read only when the file changed, which it does not while browsed. */
const COUNT_ALL_SQL = 'SELECT count(*), (SELECT count(*) FROM flows WHERE ended = 1) FROM flows';

interface Statements {
  meta: Database.Statement<[], { key: string; value: string | null }>;
  countRun: Database.Statement<[{ run: number }], [number, number]>;
  countAll: Database.Statement<[], [number, number]>;
  rows: Database.Statement<[string], unknown[]>;
  search: Database.Statement<[{ t: string; run: number | null }], string>;
  windows: Database.Statement<[{ id: string; limit: number; run: number | null }], unknown[]>;
  featureNames: Database.Statement<[], string | undefined>;
}

/**
 * The UI's only way into an SQLite database: a read-only connection, opened when the file and its tables
 * exist, never writing, holding a read transaction only for
 * the few milliseconds of one query, so the filter thread's WAL writes are never blocked.
 * Filtering and sorting run in SQLite; JavaScript sees the IDs in order and the rows on screen.
 */
export class SqliteReader {
  private db: Database.Database | null = null;
  private stmts: Statements | null = null;
  private readonly orderStmts = new Map<string, Database.Statement<Record<string, number | null>, string>>();
  private version = -1;
  /** the display filter the SQL filter function tests against, set for each query */
  private filter: AddressFilter | null = null;
  /** the run of the last query: searches and window histories keep to it */
  private run: number | null = null;

  constructor(readonly dbPath: string) {}

  get name(): string {
    return this.dbPath;
  }

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
        this.filter === null || this.filter.matches(String(src), String(des)) ? 1 : 0,
      );
      this.db = db;
      this.version = db.pragma('data_version', { simple: true }) as number;
      this.stmts = {
        meta: db.prepare('SELECT key, value FROM meta'),
        countRun: (db.prepare(COUNT_RUN_SQL) as Statements['countRun']).raw(true),
        countAll: (db.prepare(COUNT_ALL_SQL) as Statements['countAll']).raw(true),
        rows: (
          db.prepare(
            `SELECT ${selectList(FLOW_COLUMNS)} FROM flows WHERE flow_id IN (SELECT value FROM json_each(?))`,
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

  private orderStatement(q: SqliteQuery): Database.Statement<Record<string, number | null>, string> {
    const key = `${q.sort.key}/${q.sort.desc}/${q.filter !== null}/${q.run !== null}`;
    let st = this.orderStmts.get(key);
    if (!st) {
      const e = `(${sortSql(q.sort.key)})`;
      // +run: a scan with a filter, not the index (a run usually holds most rows: the index would cost a lookup each)
      const where = [q.run !== null ? '+run = @run' : '', q.filter !== null ? 'spymate_shown(src_ip, des_ip)' : ''];
      const cond = where.filter((w) => w !== '').join(' AND ');
      const sql = `SELECT flow_id FROM flows ${cond ? `WHERE ${cond}` : ''} ORDER BY ${e} IS NULL, ${e} ${q.sort.desc ? 'DESC' : 'ASC'}, flow_id`;
      st = (this.db as Database.Database).prepare(sql).pluck() as Database.Statement<
        Record<string, number | null>,
        string
      >;
      this.orderStmts.set(key, st);
    }
    return st;
  }

  /** Meta, the total, and the IDs of the flows to show, in order: one consistent read. */
  read(q: SqliteQuery): Snapshot {
    const problem = this.open();
    if (problem !== null || !this.stmts || !this.db) return emptySnapshot(problem ?? 'database not open');
    const stmts = this.stmts;
    try {
      return this.db.transaction((): Snapshot => {
        const meta = decodeMeta(stmts.meta.all());
        const st = this.orderStatement(q);
        const params: Record<string, number | null> = {};
        if (sortSql(q.sort.key).includes('@clock')) params.clock = meta.clock;
        if (q.run !== null) params.run = q.run;
        this.filter = q.filter;
        this.run = q.run;
        const [total, ended] = (q.run === null ? stmts.countAll.get() : stmts.countRun.get({ run: q.run })) as [
          number,
          number,
        ];
        return { ok: true, problem: null, meta, total, ended, order: st.all(params) };
      })();
    } catch (err) {
      return emptySnapshot(`cannot read ${this.dbPath}: ${(err as Error).message}`);
    }
  }

  /** The full rows of these flows (those on screen, the selected one, the marked ones). */
  rows(ids: readonly string[]): FlowRow[] {
    if (!this.stmts || ids.length === 0) return [];
    try {
      return this.stmts.rows.all(JSON.stringify(ids)).map((t) => shapeRow(FLOW_COLUMNS, t));
    } catch {
      return [];
    }
  }

  /** IDs of the flows whose ID, address, port, app or presence contain `term` (case-insensitive). */
  search(term: string): string[] {
    if (!this.stmts || term === '') return [];
    try {
      return this.stmts.search.all({ t: term.toLowerCase(), run: this.run });
    } catch {
      return [];
    }
  }

  /** The last `limit` windows of a flow, oldest first. */
  recentWindows(flowId: string, limit: number): WindowRow[] {
    if (!this.stmts) return [];
    try {
      const rows = this.stmts.windows.all({ id: flowId, limit, run: this.run });
      rows.reverse();
      const names = parseFeatureNames(this.stmts.featureNames.get()) ?? [];
      const blob = WINDOW_COLUMNS.length;
      return rows.map((t) => ({ ...shapeRow(WINDOW_COLUMNS, t), features: parseFeatures(t[blob] as Buffer, names) }));
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
  const sql =
    `SELECT ${selectList(WINDOW_COLUMNS)}, features FROM windows ` +
    'WHERE flow_id = @id AND (@run IS NULL OR run = @run) ORDER BY start DESC LIMIT @limit';
  return (db.prepare(sql) as Statements['windows']).raw(true);
}

/** A window's features (float64 bytes in the order of meta `feature_names`, the names once per database) by name. */
function parseFeatures(blob: Buffer, names: readonly string[]): Record<string, number> {
  const values = featureValues(blob);
  const out: Record<string, number> = {};
  for (let i = 0; i < values.length; i++) out[names[i] ?? `feature${i}`] = values[i];
  return out;
}
