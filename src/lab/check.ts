/**
 * `node dist/src/lab/check.js TRACE`: evidence that a recording's labels line up with its
 * traffic. Reads NAME.json and NAME.labels.csv beside the trace, takes peer A's outgoing
 * packets of each call (tshark), and prints A's sending bitrate per label and around each
 * label boundary (5 s before / 5 s after, and second by second from -3 s to +3 s), where the
 * encoder's reaction should show.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';

interface Pkt {
  t: number;
  len: number;
}

export interface BoundaryEvidence {
  at: number;
  from: string;
  to: string;
  kbpsBefore: number;
  kbpsAfter: number;
  perSecond: number[];
}

export interface CallEvidence {
  flow: string;
  packetsOut: number;
  packetsIn: number;
  kbpsPerson: number;
  kbpsBackground: number;
  boundaries: BoundaryEvidence[];
}

function kbps(pkts: Pkt[], a: number, b: number): number {
  let bytes = 0;
  for (const p of pkts) if (p.t >= a && p.t < b) bytes += p.len;
  return Math.round((bytes * 8) / 1000 / Math.max(b - a, 1e-9));
}

export function traceBase(trace: string): string {
  return trace.replace(/\.pcapng(\.gz)?$/, '');
}

export function checkRecording(trace: string): CallEvidence[] {
  const base = traceBase(trace);
  const scenario = JSON.parse(fs.readFileSync(base + '.json', 'utf8'));
  const labels = fs
    .readFileSync(base + '.labels.csv', 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => l.split(','))
    .map(([s, e, label]) => ({ start: Number(s), end: Number(e), label }));
  const out = execFileSync(
    'tshark',
    [
      '-r',
      trace,
      '-Y',
      'udp',
      '-T',
      'fields',
      '-e',
      'frame.time_epoch',
      '-e',
      'ip.src',
      '-e',
      'udp.srcport',
      '-e',
      'ip.dst',
      '-e',
      'udp.dstport',
      '-e',
      'frame.len',
    ],
    { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
  const rows = out
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  return scenario.calls.map((c: any) => {
    const lo = `${c.local.ip}:${c.local.port}`,
      re = `${c.remote.ip}:${c.remote.port}`;
    const outPk: Pkt[] = [];
    let packetsIn = 0;
    for (const [t, s, sp, d, dp, len] of rows) {
      if (`${s}:${sp}` === lo && `${d}:${dp}` === re) outPk.push({ t: Number(t), len: Number(len) });
      else if (`${s}:${sp}` === re && `${d}:${dp}` === lo) packetsIn++;
    }
    const first = outPk.length ? outPk[0].t : 0;
    // Labels that begin before the call carried media are measured from its first packet.
    const spans = labels.map((l) => ({ ...l, start: Math.max(l.start, first) })).filter((l) => l.end > l.start);
    const mean = (label: string): number => {
      const ls = spans.filter((l) => l.label === label);
      const secs = ls.reduce((a, l) => a + l.end - l.start, 0);
      return secs
        ? Math.round(ls.reduce((a, l) => a + kbps(outPk, l.start, l.end) * (l.end - l.start), 0) / secs)
        : NaN;
    };
    const boundaries = spans.slice(1).map((l, i) => ({
      at: l.start,
      from: spans[i].label,
      to: l.label,
      kbpsBefore: kbps(outPk, l.start - 5, l.start),
      kbpsAfter: kbps(outPk, l.start, l.start + 5),
      perSecond: [-3, -2, -1, 0, 1, 2].map((k) => kbps(outPk, l.start + k, l.start + k + 1)),
    }));
    return {
      flow: `${lo} -> ${re}`,
      packetsOut: outPk.length,
      packetsIn,
      kbpsPerson: mean('person'),
      kbpsBackground: mean('background'),
      boundaries,
    };
  });
}

if (require.main === module) {
  for (const trace of process.argv.slice(2)) {
    for (const c of checkRecording(trace)) {
      console.log(
        `${trace}: ${c.flow}  out ${c.packetsOut} pkts, in ${c.packetsIn} pkts; A sends ${c.kbpsPerson} kbit/s with person, ${c.kbpsBackground} kbit/s background`,
      );
      for (const b of c.boundaries)
        console.log(
          `  ${b.at.toFixed(1)} ${b.from} -> ${b.to}: ${b.kbpsBefore} -> ${b.kbpsAfter} kbit/s (5 s before/after); per second -3..+3 s: ${b.perSecond.join(' ')}`,
        );
    }
  }
}
