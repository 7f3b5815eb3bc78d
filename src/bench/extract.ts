import * as path from 'node:path';
import { bestOf, timeCommand, type BenchSection } from './bench';
import { benchTrace } from './trace';

const TSHARK_FIELDS = [
  '-T',
  'fields',
  '-e',
  'frame.time_epoch',
  '-e',
  'ip.src',
  '-e',
  'ip.dst',
  '-e',
  'udp.srcport',
  '-e',
  'udp.dstport',
  '-e',
  'frame.len',
];

/**
 * spymate extract against tshark on the same trace: packets/s, peak RSS, ratios. Wall time is
 * the best of 3 runs for extract (one for tshark, which takes a minute); CPU time is shown too,
 * as it is steadier than wall time on a shared machine. SPYMATE_BENCH_NO_TSHARK=1 skips tshark.
 */
export const benchSection: BenchSection = {
  name: 'extract',
  run(ctx) {
    const t0 = Date.now();
    const { file, packets } = benchTrace(ctx.cacheDir);
    const made = (Date.now() - t0) / 1000;
    ctx.report(
      'trace packets',
      packets,
      'packets',
      `${path.basename(file)}, snaplen 128${made > 1 ? `, generated in ${made.toFixed(0)} s` : ', cached'}`,
    );

    const cli = path.join(ctx.root, 'dist/src/cli/spymate.js');
    const ours = bestOf(3, () => timeCommand(cli, ['extract', '-q', file, '-o', '/dev/null'], { node: true }));
    if (ours.status !== 0) throw new Error(`spymate extract failed: ${ours.stderr.trim()}`);
    ctx.report(
      'spymate extract',
      packets / ours.seconds / 1e6,
      'M packets/s',
      `${ours.seconds.toFixed(2)} s wall, best of 3; target >= 2`,
    );
    ctx.report(
      'spymate extract, per CPU second',
      packets / ours.cpuSeconds / 1e6,
      'M packets/s',
      `${ours.cpuSeconds.toFixed(2)} s CPU`,
    );
    ctx.report('spymate extract peak RSS', ours.peakRssMB, 'MB', 'target <= 200');

    if (process.env.SPYMATE_BENCH_NO_TSHARK) return;
    const tshark = (name: string, args: string[]) => {
      const t = timeCommand('tshark', ['-n', '-r', file, ...args]);
      if (t.status !== 0) throw new Error(`tshark ${args.join(' ')} failed: ${t.stderr.trim().split('\n')[0]}`);
      ctx.report(
        name,
        packets / t.seconds / 1e3,
        'k packets/s',
        `${t.seconds.toFixed(1)} s wall, ${t.cpuSeconds.toFixed(1)} s CPU, ${t.peakRssMB.toFixed(0)} MB`,
      );
      return t;
    };
    const conv = tshark('tshark -q -z conv,udp', ['-q', '-z', 'conv,udp']);
    const fields = tshark('tshark -T fields (pyshark-like)', TSHARK_FIELDS);
    const ratio = (name: string, t: typeof conv, target: number) =>
      ctx.report(
        name,
        t.seconds / ours.seconds,
        'x',
        `wall; by CPU time ${(t.cpuSeconds / ours.cpuSeconds).toFixed(1)}x; target >= ${target}`,
      );
    ratio('speed-up over conv,udp', conv, 20);
    ratio('speed-up over field extraction', fields, 50);
  },
};
