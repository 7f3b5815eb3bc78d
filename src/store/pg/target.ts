import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ClientConfig } from 'pg';
import { usageError } from '../../util/errors';

/** Where --store points: what pg connects with, and what messages show (never the password). */
export interface PgTarget {
  /** postgres://USER@HOST:PORT/DB, without a password */
  display: string;
  host: string;
  port: number;
  user: string;
  database: string;
  config: ClientConfig;
}

/** True for the URLs --store treats as PostgreSQL. */
export function isPgUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text);
}

/**
 * `postgres://USER[:PASSWORD]@HOST[:PORT]/DB[?sslmode=...]` (as libpq, `postgresql://` too). The
 * user defaults to the login name and the database to the user, as with psql. The password comes
 * from the URL, else PGPASSWORD, else ~/.pgpass (or PGPASSFILE), looked up once: a sensor that
 * reconnects after dropping root still has it.
 */
export function parsePgUrl(text: string, env: NodeJS.ProcessEnv = process.env): PgTarget {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    throw usageError(`--store: '${redact(text)}' is not a URL; use postgres://USER@HOST:PORT/DB`);
  }
  if (!isPgUrl(text)) throw usageError(`--store: only postgres:// URLs are supported, got '${u.protocol}//'`);
  const host = decodeURIComponent(u.hostname.replace(/^\[(.*)\]$/, '$1'));
  if (host === '') throw usageError('--store: the URL names no host; use postgres://USER@HOST:PORT/DB');
  const port = u.port === '' ? 5432 : Number(u.port);
  const user = decodeURIComponent(u.username) || env.PGUSER || os.userInfo().username;
  const database = decodeURIComponent(u.pathname.replace(/^\//, '')) || env.PGDATABASE || user;
  if (database.includes('/')) throw usageError(`--store: '${database}' is not a database name`);
  const urlPassword = u.password === '' ? null : decodeURIComponent(u.password);
  let password: string | null | undefined;
  // asked only when the server wants a password; none found: an empty one, which it refuses clearly
  const resolvePassword = async (): Promise<string> => {
    if (password === undefined)
      password = urlPassword ?? env.PGPASSWORD ?? pgpassLookup(env, host, port, database, user);
    return password ?? '';
  };
  const display = `postgres://${encodeURIComponent(user)}@${u.host}/${encodeURIComponent(database)}`;
  const ssl = sslOption(u.searchParams.get('sslmode'));
  return {
    display,
    host,
    port,
    user,
    database,
    config: { host, port, user, database, password: resolvePassword, ssl, application_name: 'spymate' },
  };
}

/** libpq's sslmode, the common ones: disable/prefer (no TLS here), require (TLS, any certificate), verify-full. */
function sslOption(mode: string | null): ClientConfig['ssl'] {
  if (mode === null || mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  if (mode === 'verify-ca' || mode === 'verify-full') return { rejectUnauthorized: true };
  throw usageError(`--store: unknown sslmode '${mode}'; use disable, require or verify-full`);
}

/** `postgres://u:secret@h/db` → `postgres://u:***@h/db`, for messages. */
export function redact(text: string): string {
  return text.replace(/(\/\/[^/:@]*):[^@/]*@/, '$1:***@');
}

/**
 * The password for (host, port, database, user) in the pgpass file, as libpq reads it: lines
 * `host:port:database:user:password`, `*` matching anything, `\:` and `\\` escaped; a file others
 * can read is ignored (libpq refuses it too).
 */
export function pgpassLookup(
  env: NodeJS.ProcessEnv,
  host: string,
  port: number,
  database: string,
  user: string,
): string | null {
  const file = env.PGPASSFILE || path.join(env.HOME || os.homedir(), '.pgpass');
  let text: string;
  try {
    const st = fs.statSync(file);
    if (!st.isFile() || (st.mode & 0o077) !== 0) return null;
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  const want = [host, String(port), database, user];
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.trim() === '') continue;
    const fields = splitPgpass(line);
    if (fields.length < 5) continue;
    if (want.every((w, i) => fields[i] === '*' || fields[i] === w)) return fields.slice(4).join(':');
  }
  return null;
}

function splitPgpass(line: string): string[] {
  const out: string[] = [''];
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) out[out.length - 1] += line[++i];
    else if (c === ':') out.push('');
    else out[out.length - 1] += c;
  }
  return out;
}
