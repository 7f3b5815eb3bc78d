import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../util/errors';
import { checkRootMayWrite } from '../features/output';
import { featureBytes } from './features-blob';
import { projectRoot } from '../rules/paths';

/**
 * Schema versions go by PRAGMA user_version. A fresh database gets db/schema.sql (the current
 * schema, what readers look at); an older one gets db/migrations/NNN_*.sql for every version above
 * its own, in one transaction; a newer one is refused. A test checks that the migrations applied
 * in order give the same tables as schema.sql.
 */
export const SCHEMA_VERSION = 7;

function dbDir(): string {
  return path.join(projectRoot(), 'db');
}

/** Migration files by the version they bring the database to. */
export function migrationFiles(): Map<number, string> {
  const files = new Map<number, string>();
  for (const name of fs.readdirSync(path.join(dbDir(), 'migrations'))) {
    const m = /^(\d+)_.*\.sql$/.exec(name);
    if (m) files.set(Number(m[1]), path.join(dbDir(), 'migrations', name));
  }
  return files;
}

/** Brings `db` to SCHEMA_VERSION; returns the version it had (0 = fresh). */
export function migrate(db: Database.Database, dbPath: string): number {
  const from = db.pragma('user_version', { simple: true }) as number;
  if (from > SCHEMA_VERSION) {
    throw new UserError(
      `${dbPath}: database schema version ${from} is newer than this spymate knows (${SCHEMA_VERSION}); ` +
        'use the spymate that wrote it, or choose another --db',
    );
  }
  if (from === SCHEMA_VERSION) return from;
  const hasTables =
    (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'flows'").get() as { n: number }).n > 0;
  // A version-1 database of the project skeleton did not set user_version: its tables tell.
  const effective = from === 0 && hasTables ? 1 : from;
  // Version 3 stores a window's features as float64 bytes; its migration converts the JSON arrays.
  db.function('features_blob', { deterministic: true }, (json: unknown) => featuresBlob(String(json)));
  db.transaction(() => {
    if (effective === 0) {
      db.exec(fs.readFileSync(path.join(dbDir(), 'schema.sql'), 'utf8'));
    } else {
      const files = migrationFiles();
      for (let v = effective + 1; v <= SCHEMA_VERSION; v++) {
        const file = files.get(v);
        if (!file) throw new Error(`db/migrations has no file for schema version ${v}`);
        db.exec(fs.readFileSync(file, 'utf8'));
      }
    }
    db.prepare(
      "INSERT INTO meta(key, value) VALUES ('schema_version', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    ).run(String(SCHEMA_VERSION));
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
  return effective;
}

/** A JSON array of numbers (nulls for missing values) as windows.features bytes (schema v3). */
function featuresBlob(json: string): Buffer {
  let values: unknown;
  try {
    values = JSON.parse(json);
  } catch {
    values = [];
  }
  const list: unknown[] = Array.isArray(values) ? values : [];
  return featureBytes(Float64Array.from(list, (v) => (typeof v === 'number' ? v : NaN)));
}

/** SQLite's error for a database file as the one line the user sees. */
export function describeDbError(err: unknown, dbPath: string): UserError {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; message?: string };
  const code = String(e.code ?? '');
  const msg = e.message ?? String(err);
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new UserError(`${dbPath}: database is locked by another program; close it, or choose another --db`);
  }
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new UserError(`${dbPath}: not a spymate database or corrupt (${msg}); move it away or choose another --db`);
  }
  if (code.startsWith('SQLITE_READONLY') || /readonly|read-only/i.test(msg)) {
    return new UserError(`${dbPath}: database is read-only; choose a writable --db location`);
  }
  if (code === 'SQLITE_FULL' || /disk is full|ENOSPC/i.test(msg)) {
    return new UserError(`${dbPath}: disk full; free some space or choose --db on another file system`);
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_IOERR') || code === 'SQLITE_PERM') {
    return new UserError(
      `${dbPath}: cannot open or write the database (${msg}); check the directory exists and is writable`,
    );
  }
  const errno = err as NodeJS.ErrnoException;
  if (errno.code === 'ENOSPC')
    return new UserError(`${dbPath}: disk full; free some space or choose --db on another file system`);
  if (errno.code === 'EROFS') return new UserError(`${dbPath}: database is read-only; choose a writable --db location`);
  if (errno.code === 'EACCES' || errno.code === 'EPERM') {
    return new UserError(`${dbPath}: permission denied; choose a --db location you can write`);
  }
  return new UserError(`${dbPath}: database error: ${msg}`);
}

/** Files SQLite keeps beside the database in WAL mode. */
export function dbFiles(dbPath: string): string[] {
  return [dbPath, `${dbPath}-wal`, `${dbPath}-shm`];
}

/**
 * Refuses a database that is not spymate's before anything is written to it (switching to WAL
 * alone rewrites the header): another program's SQLite file given as --db must be left as it was.
 * Ours have the meta and flows tables; a file with no tables at all is new.
 */
function checkOurs(db: Database.Database, dbPath: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const tables = new Set(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]);
  if (version === 0 && tables.size === 0) return;
  if (version > SCHEMA_VERSION) migrate(db, dbPath);
  if (!tables.has('meta') || !tables.has('flows')) {
    throw new UserError(
      `${dbPath}: an SQLite database that is not spymate's (no spymate meta and flows tables); choose another --db`,
    );
  }
}

/** A writer's lock connection, by the database connection it guards (closeWriteDb releases both). */
const locks = new WeakMap<Database.Database, Database.Database>();

/**
 * One writer per database: an exclusive SQLite lock (POSIX advisory, so the kernel releases it
 * when the holder dies, even by SIGKILL: no stale lock to clean up) on the file DB-lock, held for
 * the whole run. Who holds it is the newest run in the runs table that has not ended.
 */
function takeWriterLock(db: Database.Database, dbPath: string): Database.Database {
  const file = `${dbPath}-lock`;
  const st = fs.lstatSync(file, { throwIfNoEntry: false });
  if (st) checkRootMayWrite(file, st, st.isSymbolicLink() ? 'a symbolic link' : 'a file');
  else fs.closeSync(fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
  const lock = new Database(file, { fileMustExist: true });
  try {
    lock.pragma('busy_timeout = 0');
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN EXCLUSIVE; COMMIT');
    return lock;
  } catch (err) {
    lock.close();
    const code = String((err as { code?: string }).code ?? '');
    if (!code.startsWith('SQLITE_BUSY')) throw err;
    let who = 'another spymate-tui';
    try {
      const r = db
        .prepare('SELECT pid, source, started_at AS since FROM runs WHERE ended_at IS NULL ORDER BY id DESC LIMIT 1')
        .get() as { pid: number; source: string; since: number } | undefined;
      if (r) who += ` (pid ${r.pid}, ${r.source}, since ${new Date(r.since * 1000).toISOString()})`;
    } catch {
      /* a database from before the runs table: who it is stays unsaid */
    }
    throw new UserError(`${dbPath}: ${who} is writing to this database; stop it, or choose another --db`);
  }
}

/**
 * Opens the database for writing: WAL, the current schema. A new file is created 0600 (its -wal and
 * -shm follow its mode); an existing one keeps its mode and owner, and must be spymate's. Its
 * directory must exist, unless `createDir` (the default location, made 0700). With `exclusive`,
 * the writer lock is taken first (close with closeWriteDb). As root, only root's own files are
 * opened, never through a symbolic link. Errors are UserErrors naming the file and what to do; a
 * file this call created is removed again when it fails.
 */
export function openWriteDb(dbPath: string, o: { createDir?: boolean; exclusive?: boolean } = {}): Database.Database {
  let db: Database.Database | null = null;
  let lock: Database.Database | null = null;
  let created = false;
  try {
    const dir = path.dirname(dbPath);
    if (!fs.existsSync(dir)) {
      if (!o.createDir) {
        throw new UserError(`${dbPath}: directory ${dir} does not exist; create it, or choose another --db`);
      }
      fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    }
    for (const f of dbFiles(dbPath)) {
      const st = fs.lstatSync(f, { throwIfNoEntry: false });
      if (!st) continue;
      // a device or pipe: SQLite would fail on it and leave a journal beside it
      if (f === dbPath && !st.isFile() && !st.isSymbolicLink()) {
        throw new UserError(`${dbPath}: not a regular file; --db needs a database file path (e.g. ./spymate.db)`);
      }
      if (st.isSymbolicLink() && process.geteuid?.() === 0) {
        throw new UserError(`${f}: a symbolic link; as root spymate opens only the database file itself`);
      }
      checkRootMayWrite(f, st, 'a file');
    }
    if (!fs.existsSync(dbPath)) {
      // created here, not by SQLite, so it is 0600 whatever the umask
      fs.closeSync(fs.openSync(dbPath, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o600));
      created = true;
    } else if (!fs.statSync(dbPath).isFile()) {
      throw new UserError(`${dbPath}: not a regular file; --db needs a database file path (e.g. ./spymate.db)`);
    }
    db = new Database(dbPath, { fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    checkOurs(db, dbPath);
    if (o.exclusive) lock = takeWriterLock(db, dbPath);
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction on a process crash, only on power loss.
    db.pragma('synchronous = NORMAL');
    // Checkpoints fsync: every 32 MB of WAL rather than every 4 MB (SQLite's default) at full rate.
    db.pragma('wal_autocheckpoint = 8000');
    migrate(db, dbPath);
    // A write lock now, so a database another program holds is refused at start, not at the first batch.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    if (lock) locks.set(db, lock);
    return db;
  } catch (err) {
    for (const c of [db, lock]) {
      try {
        c?.close();
      } catch {
        /* the error that matters is the first one */
      }
    }
    if (created) for (const f of dbFiles(dbPath)) fs.rmSync(f, { force: true });
    throw describeDbError(err, dbPath);
  }
}

/** Closes a database openWriteDb opened, and gives up its writer lock. */
export function closeWriteDb(db: Database.Database): void {
  try {
    db.close();
  } finally {
    locks.get(db)?.close();
    locks.delete(db);
  }
}
