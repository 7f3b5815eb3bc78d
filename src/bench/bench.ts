import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

/**
 * The frame every `npm run bench` section plugs into. A section is a file src/bench/NAME.ts that
 * exports `benchSection: BenchSection`; run.ts finds and runs them all in name order
 * (`npm run bench -- NAME...` runs only those).
 */
export interface BenchSection {
  name: string;
  /** prints its own figures through ctx.report; throws to fail the bench */
  run(ctx: BenchContext): Promise<void> | void;
}

export interface BenchContext {
  /** project root (package.json's directory) */
  root: string;
  /** cache outside git for generated inputs: ~/.cache/spymate-bench (SPYMATE_BENCH_CACHE overrides) */
  cacheDir: string;
  /** one result line: `name  value unit  (note)` */
  report(name: string, value: number, unit: string, note?: string): void;
}

export function projectRootFromBench(): string {
  return path.resolve(__dirname, '../../..');
}

export function benchCacheDir(): string {
  const dir = process.env.SPYMATE_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'spymate-bench');
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

export interface Timed {
  seconds: number;
  /** peak resident set of the child, MB (NaN when it could not be measured) */
  peakRssMB: number;
  /** user + system CPU seconds of the child (NaN when it could not be measured): steadier than wall time on a busy machine */
  cpuSeconds: number;
  status: number | null;
  stderr: string;
}

/**
 * Runs a command to completion and measures wall time and peak RSS. Node children report their
 * own peak through the probe preloaded with --require; others through /usr/bin/time when present.
 */
export function timeCommand(cmd: string, args: string[], opts: { node?: boolean } = {}): Timed {
  const probe = path.join(__dirname, 'rss-probe.js');
  const useTime = !opts.node && fs.existsSync('/usr/bin/time');
  const [file, argv] = opts.node
    ? [process.execPath, ['--require', probe, cmd, ...args]]
    : useTime
      ? ['/usr/bin/time', ['-f', 'BENCH_MAXRSS_KB=%M BENCH_CPU_S=%U+%S', cmd, ...args]]
      : [cmd, args];
  const t0 = process.hrtime.bigint();
  const r = spawnSync(file, argv, { stdio: ['ignore', 'ignore', 'pipe'], maxBuffer: 64 << 20 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const stderr = r.stderr?.toString() ?? '';
  const m = /BENCH_MAXRSS_KB=(\d+)/.exec(stderr);
  const c = /BENCH_CPU_S=([\d.]+)(?:\+([\d.]+))?/.exec(stderr);
  const cpuSeconds = c ? Number(c[1]) + Number(c[2] ?? 0) : NaN;
  return { seconds, peakRssMB: m ? Number(m[1]) / 1024 : NaN, cpuSeconds, status: r.status, stderr };
}

/** The fastest of n runs (the others were slowed by whatever else the machine was doing). */
export function bestOf(n: number, run: () => Timed): Timed {
  const runs: Timed[] = [];
  for (let i = 0; i < n; i++) {
    const t = run();
    if (t.status !== 0) return t;
    runs.push(t);
  }
  const best = runs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
  return { ...best, peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)) };
}
