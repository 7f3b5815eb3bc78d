import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../util/errors';
import { featureBytes } from './features-blob';
import { projectRoot } from '../rules/paths';

/**
 * Schema versions go by PRAGMA user_version. A fresh database gets db/schema.sql (the current
 * schema, what readers look at); an older one gets db/migrations/NNN_*.sql for every version above
 * its own, in one transaction; a newer one is refused. A test checks that the migrations applied
 * in order give the same tables as schema.sql.
 */
export const SCHEMA_VERSION = 5;

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
 * Opens (creating, mode 0600, with its directory) the database for writing: WAL, the current
 * schema. Errors are UserErrors naming the file and what to do.
 */
export function openWriteDb(dbPath: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    fs.mkdirSync(path.dirname(dbPath), { recursive: true, mode: 0o700 });
    // Created here, not by SQLite, so it is 0600 whatever the umask; -wal/-shm follow its mode.
    const fd = fs.openSync(dbPath, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    try {
      // a device or pipe: SQLite would fail on it, leave a journal beside it, and we would chmod it
      if (!fs.fstatSync(fd).isFile())
        throw new UserError(`${dbPath}: not a regular file; --db needs a database file path (e.g. ./spymate.db)`);
    } finally {
      fs.closeSync(fd);
    }
    db = new Database(dbPath, { fileMustExist: true });
    db.pragma('busy_timeout = 2000');
    db.pragma('journal_mode = WAL');
    // In WAL mode NORMAL loses no committed transaction on a process crash, only on power loss.
    db.pragma('synchronous = NORMAL');
    // Checkpoints fsync: every 32 MB of WAL rather than every 4 MB (SQLite's default) at full rate.
    db.pragma('wal_autocheckpoint = 8000');
    migrate(db, dbPath);
    // A write lock now, so a database another program holds is refused at start, not at the first batch.
    db.exec('BEGIN IMMEDIATE; COMMIT');
    for (const f of dbFiles(dbPath)) if (fs.existsSync(f)) fs.chmodSync(f, 0o600);
    return db;
  } catch (err) {
    try {
      db?.close();
    } catch {
      /* the error that matters is the first one */
    }
    throw describeDbError(err, dbPath);
  }
}
