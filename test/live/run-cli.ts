/** Runs the real spymate-tui bin for end-to-end tests, and reads what it leaves behind. */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { projectRoot } from '../../src/rules/paths';
import { cliEnv } from '../../src/testkit/spymate-cli';

export const BIN = path.join(projectRoot(), 'dist', 'src', 'cli', 'spymate-tui.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export { tempDir as tmpDir } from '../../src/testkit/temp';

/** Starts the CLI (optionally through a wrapper such as `ip netns exec NS`); stdout/stderr collected. */
export function startCli(args: string[], opts: { wrap?: string[]; env?: NodeJS.ProcessEnv } = {}) {
  const argv = [...(opts.wrap ?? []), process.execPath, BIN, ...args];
  const child: ChildProcess = spawn(argv[0], argv.slice(1), {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cliEnv(opts.env),
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c));
  child.stderr!.on('data', (c: Buffer) => (stderr += c));
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, result, output: () => ({ stdout, stderr }) };
}

export async function runCli(
  args: string[],
  opts: { wrap?: string[]; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<CliResult> {
  const run = startCli(args, opts);
  const timer = setTimeout(() => run.child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  try {
    return await run.result;
  } finally {
    clearTimeout(timer);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Waits until `cond` holds, polling; false on timeout. */
export async function waitFor(cond: () => boolean, timeoutMs: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await sleep(stepMs);
  }
  return cond();
}

export interface DbDump {
  flows: Array<Record<string, unknown>>;
  windows: Array<Record<string, unknown>>;
  meta: Record<string, string>;
}

export function readDb(file: string): DbDump {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return {
      flows: db.prepare('SELECT * FROM flows ORDER BY flow_id').all() as Array<Record<string, unknown>>,
      windows: db.prepare('SELECT * FROM windows ORDER BY flow_id, start').all() as Array<Record<string, unknown>>,
      meta: Object.fromEntries(
        (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [
          r.key,
          r.value,
        ]),
      ),
    };
  } finally {
    db.close();
  }
}

export function ndjsonRecords(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** PIDs whose parent is `pid` (the capture helper of a spymate-tui process). */
export function childPids(pid: number): number[] {
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return /\bPPid:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))![1] === String(pid);
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** Whether `pid` holds /dev/cpu_dma_latency open (a PM QoS request keeping CPUs out of deep idle). */
export function holdsCpuLatency(pid: number): boolean {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === '/dev/cpu_dma_latency';
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}
