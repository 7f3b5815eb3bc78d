import fs from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { projectRoot } from '../../rules/paths';
import { UserError } from '../../util/errors';
import type { PgTarget } from './target';

/**
 * Schema versions of the PostgreSQL store live in its table spymate_schema. A database without it
 * gets db/postgres/schema.sql (the current schema); a newer one is refused. All of it in one
 * transaction under an advisory lock: sensors that start together create the tables once.
 */
export const PG_SCHEMA_VERSION = 4;

/** pg_advisory_xact_lock key: any fixed number; this one spells "spym". */
const MIGRATION_LOCK = 0x7370796d;

function pgDir(): string {
  return path.join(projectRoot(), 'db', 'postgres');
}

/** Brings the database to PG_SCHEMA_VERSION; returns the version it had (0 = new). */
export async function migratePg(client: Client, target: PgTarget): Promise<number> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    const found = await client.query<{ ours: string | null; other: string | null }>(
      "SELECT to_regclass('spymate_schema')::text AS ours, " +
        "coalesce(to_regclass('flows'), to_regclass('windows'), to_regclass('sensors'))::text AS other",
    );
    const { ours, other } = found.rows[0];
    let from = 0;
    if (ours !== null) {
      from =
        (await client.query<{ version: number }>('SELECT max(version) AS version FROM spymate_schema')).rows[0]
          .version ?? 0;
    } else if (other !== null) {
      throw new UserError(
        `${target.display}: the database has a table '${other}' that spymate did not make; give spymate a database of its own (createdb spymate)`,
      );
    }
    if (from > PG_SCHEMA_VERSION) {
      throw new UserError(
        `${target.display}: schema version ${from} is newer than this spymate knows (${PG_SCHEMA_VERSION}); upgrade spymate on this host`,
      );
    }
    if (from === 0) {
      await client.query(fs.readFileSync(path.join(pgDir(), 'schema.sql'), 'utf8'));
      await client.query('INSERT INTO spymate_schema (version) VALUES ($1)', [PG_SCHEMA_VERSION]);
    } else if (from < PG_SCHEMA_VERSION) {
      // db/postgres/migrations/NNN_*.sql brings a database from version NNN - 1 to NNN
      const dir = path.join(pgDir(), 'migrations');
      const files = fs.readdirSync(dir);
      for (let v = from + 1; v <= PG_SCHEMA_VERSION; v++) {
        const name = files.find((n) => n.startsWith(`${String(v).padStart(3, '0')}_`) && n.endsWith('.sql'));
        if (name === undefined) throw new Error(`db/postgres/migrations has no file for schema version ${v}`);
        await client.query(fs.readFileSync(path.join(dir, name), 'utf8'));
        await client.query('INSERT INTO spymate_schema (version) VALUES ($1)', [v]);
      }
    }
    await client.query('COMMIT');
    return from;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

/** Error codes that mean "not reachable now", as opposed to a setting to fix. */
const TRANSIENT_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'EAI_AGAIN',
]);

/** True when waiting may help: the server is down, restarting, or the network dropped. */
export function isTransient(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = String(e.code ?? '');
  // 57P01..57P03: the server is shutting down or starting up; 08xxx: connection exceptions
  if (TRANSIENT_ERRNO.has(code) || code.startsWith('57P') || code.startsWith('08')) return true;
  return /Connection terminated|timeout|not queryable|Client was closed/i.test(e.message ?? '');
}

/** A PostgreSQL failure as the one line the user sees: what, where, and what to do. */
export function describePgError(err: unknown, target: PgTarget): UserError {
  if (err instanceof UserError) return err;
  const e = err as { code?: string; message?: string };
  const code = String(e.code ?? '');
  const msg = e.message ?? String(err);
  const at = target.display;
  if (code === 'ECONNREFUSED')
    return new UserError(
      `${at}: connection refused; is PostgreSQL running and listening on ${target.host}:${target.port}?`,
    );
  if (code === 'ENOTFOUND')
    return new UserError(`${at}: host '${target.host}' not found; check the host name in --store`);
  if (code === '28P01' || code === '28000') {
    return new UserError(
      `${at}: authentication failed for user '${target.user}'; put the password in PGPASSWORD or ~/.pgpass`,
    );
  }
  if (code === '3D000')
    return new UserError(
      `${at}: database '${target.database}' does not exist; create it (createdb ${target.database})`,
    );
  if (code === '42501') {
    return new UserError(
      `${at}: user '${target.user}' may not do this (${msg}); grant it, or use the database's owner`,
    );
  }
  return new UserError(`${at}: ${msg}`);
}
