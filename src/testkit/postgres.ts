/**
 * A throwaway PostgreSQL cluster for tests and the bench: initdb in a temporary directory, one
 * server on 127.0.0.1 and a free port, owned by an unprivileged user (initdb refuses root: under
 * root the cluster belongs to Debian's `postgres` user, else `nobody`), stopped and removed by
 * destroy(). The binaries come from $SPYMATE_PG_BIN, else the newest /usr/lib/postgresql/N/bin
 * (Debian's postgresql package), else PATH.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, types as pgTypes } from 'pg';

export interface PgCluster {
  /** postgres://spymate@127.0.0.1:PORT/spymate */
  url: string;
  port: number;
  dir: string;
  /** pg_ctl stop -m fast: clients are disconnected at once */
  stop(): void;
  start(): void;
  /** psql -At -c SQL as the superuser, on the spymate database */
  psql(sql: string): string;
  /**
   * CPU seconds the server has used so far, all its processes (Linux /proc): the postmaster's own
   * and what its children used, those that ended (reaped by it) and those that run.
   */
  cpuSeconds(): number;
  /** rows of one query on the spymate database, bigints as numbers */
  query<T extends object>(sql: string, params?: unknown[]): Promise<T[]>;
  destroy(): void;
}

/** The directory holding initdb and pg_ctl, or null when PostgreSQL is not installed. */
export function pgBinDir(): string | null {
  const candidates: string[] = [];
  if (process.env.SPYMATE_PG_BIN) candidates.push(process.env.SPYMATE_PG_BIN);
  const root = '/usr/lib/postgresql';
  if (fs.existsSync(root)) {
    const versions = fs
      .readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(root, v, 'bin')));
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(dir);
  return candidates.find((d) => fs.existsSync(path.join(d, 'initdb')) && fs.existsSync(path.join(d, 'pg_ctl'))) ?? null;
}

/** A port nothing listens on now (the kernel's pick). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

function ownerOf(): { name: string; uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    const r = spawnSync('id', ['-u', name], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', name], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) return { name, uid: Number(r.stdout.trim()), gid: Number(g.stdout.trim()) };
  }
  throw new Error('running as root, and neither a postgres nor a nobody user exists to own the test cluster');
}

/** utime, stime, cutime, cstime of /proc/PID/stat, in clock ticks (fields 14-17) */
function procTimes(pid: string): { ppid: number; ticks: number } | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null; // ended meanwhile
  }
}

/** Linux's USER_HZ: the clock ticks of /proc times (100 on every architecture Linux runs on) */
const TICKS_PER_S = 100;

function serverCpuSeconds(postmaster: number): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const t = procTimes(pid);
    if (t && (Number(pid) === postmaster || t.ppid === postmaster)) ticks += t.ticks;
  }
  return ticks / TICKS_PER_S;
}

export interface ClusterOptions {
  /** fsync off: faster for tests; the bench keeps PostgreSQL's durable defaults */
  durable?: boolean;
  /** extra postgresql.conf settings */
  settings?: Record<string, string>;
}

/** Makes and starts a cluster with a database `spymate` owned by the superuser `spymate`. */
export async function startCluster(tag: string, opts: ClusterOptions = {}): Promise<PgCluster> {
  const bin = pgBinDir();
  if (!bin) throw new Error('PostgreSQL is not installed (apt-get install postgresql)');
  const owner = ownerOf();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `spymate-pg-${tag}-`));
  const data = path.join(dir, 'data');
  if (owner) fs.chownSync(dir, owner.uid, owner.gid);
  fs.chmodSync(dir, 0o700);
  const as = (cmd: string, args: string[]): string[] =>
    owner ? ['runuser', '-u', owner.name, '--', cmd, ...args] : [cmd, ...args];
  const exec = (cmd: string, args: string[]): string => {
    const [file, ...rest] = as(path.join(bin, cmd), args);
    return execFileSync(file, rest, { encoding: 'utf8', cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60000 });
  };
  exec('initdb', ['-D', data, '-A', 'trust', '-U', 'spymate', '-E', 'UTF8', '--no-locale', '--no-sync']);
  const port = await freePort();
  const settings: Record<string, string> = {
    listen_addresses: "'127.0.0.1'",
    port: String(port),
    unix_socket_directories: `'${dir}'`,
    ...(opts.durable ? {} : { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off' }),
    ...opts.settings,
  };
  fs.appendFileSync(
    path.join(data, 'postgresql.conf'),
    Object.entries(settings)
      .map(([k, v]) => `${k} = ${v}\n`)
      .join(''),
  );
  const log = path.join(dir, 'server.log');
  const start = (): void => void exec('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', 'start']);
  const stop = (): void => void exec('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop']);
  const psqlOn = (db: string, sql: string): string =>
    execFileSync(
      path.join(bin, 'psql'),
      [
        '-X',
        '-At',
        '-v',
        'ON_ERROR_STOP=1',
        '-h',
        '127.0.0.1',
        '-p',
        String(port),
        '-U',
        'spymate',
        '-d',
        db,
        '-c',
        sql,
      ],
      {
        encoding: 'utf8',
        timeout: 60000,
      },
    );
  try {
    start();
    psqlOn('postgres', 'CREATE DATABASE spymate');
  } catch (err) {
    const tail = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').slice(-2000) : '';
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`the test PostgreSQL did not start: ${(err as Error).message}\n${tail}`);
  }
  let gone = false;
  return {
    url: `postgres://spymate@127.0.0.1:${port}/spymate`,
    port,
    dir,
    stop,
    start,
    psql: (sql) => psqlOn('spymate', sql),
    cpuSeconds: () =>
      serverCpuSeconds(Number(fs.readFileSync(path.join(data, 'postmaster.pid'), 'utf8').split('\n')[0])),
    query: async <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> => {
      const c = new Client({
        connectionString: `postgres://spymate@127.0.0.1:${port}/spymate`,
        types: {
          getTypeParser: (oid: number, f?: 'text' | 'binary') => (oid === 20 ? Number : pgTypes.getTypeParser(oid, f)),
        },
      });
      await c.connect();
      try {
        return (await c.query<T>(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    destroy: () => {
      if (gone) return;
      gone = true;
      try {
        stop();
      } catch {
        /* not running */
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
