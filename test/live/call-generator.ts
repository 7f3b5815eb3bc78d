/**
 * A bounded UDP generator shaped like one side of a video call, run as a program inside a test's
 * network namespace:  node call-generator.js '{"from":..,"to":..,"sport":..,"dport":..,"seconds":..,"fromA":true}'
 * It sends, in real time, the packets of src/testkit/synthetic.ts's call that go in one
 * direction: ~30 video frames/s as bursts of RTP packets (bigger bursts while the "person" is on
 * camera: first half), 50 audio packets/s, RTCP. It stops after `seconds`.
 */
import dgram from 'node:dgram';
import { epochOffsetMs } from '../../src/capture/live';
import { syntheticCall } from '../../src/testkit/synthetic';

export interface GeneratorSpec {
  /** addresses of side A and B, and their ports */
  a: string;
  b: string;
  aPort: number;
  bPort: number;
  seconds: number;
  /** send A → B packets (else B → A) */
  fromA: boolean;
  /**
   * Send nothing in the last `ms` before a window boundary (a multiple of `windowMs` on the wall
   * clock) nor in the first quarter of that after it: what is due then goes at once after. For
   * comparing arrival stamps with kernel stamps (live-capture.test.ts says why).
   */
  guard?: { windowMs: number; ms: number };
}

let seed = 12345;
/**
 * Up to 3 ms of send jitter, as a real sender has. Without it the 20 ms audio and 33 ms video
 * periods divide the 500 ms window exactly, so a packet sits at the same offset from every window
 * boundary: one unlucky start phase and every boundary is a coin toss.
 */
function jitter(): number {
  seed = (seed * 1103515245 + 12345) & 0x7fffffff;
  return (seed / 0x7fffffff) * 0.003;
}

/** The UDP payloads and send offsets (s) of one direction. */
export function directionPackets(s: GeneratorSpec): Array<{ t: number; payload: Buffer }> {
  const call = syntheticCall({
    a: s.a,
    b: s.b,
    aPort: s.aPort,
    bPort: s.bPort,
    start: 0,
    seconds: s.seconds,
    person: (t) => t < s.seconds / 2,
  });
  const want = s.fromA ? s.a : s.b;
  const out: Array<{ t: number; payload: Buffer }> = [];
  for (const p of call) {
    const ip = p.ip!;
    const src = `${ip[12]}.${ip[13]}.${ip[14]}.${ip[15]}`;
    if (src === want) out.push({ t: p.ts + jitter(), payload: ip.subarray(20 + 8) });
  }
  return out.sort((x, y) => x.t - y.t);
}

async function main(spec: GeneratorSpec): Promise<void> {
  const pkts = directionPackets(spec);
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(spec.fromA ? spec.aPort : spec.bPort, spec.fromA ? spec.a : spec.b, r));
  const to = spec.fromA ? spec.b : spec.a;
  const port = spec.fromA ? spec.bPort : spec.aPort;
  const epoch = epochOffsetMs();
  const guard = spec.guard;
  /** Waits (at most ms * 1.25) until the wall clock is clear of a window boundary. */
  const clear = (): void => {
    if (!guard) return;
    for (;;) {
      const into = (epoch + performance.now()) % guard.windowMs;
      if (into >= guard.ms / 4 && into < guard.windowMs - guard.ms) return;
    }
  };
  const t0 = performance.now();
  let i = 0;
  let sent = 0;
  await new Promise<void>((resolve) => {
    const step = (): void => {
      const now = (performance.now() - t0) / 1000;
      if (i < pkts.length && pkts[i].t <= now) clear();
      while (i < pkts.length && pkts[i].t <= now) {
        sock.send(pkts[i++].payload, port, to, () => undefined);
        sent++;
      }
      if (i >= pkts.length) return resolve();
      setTimeout(step, Math.max(0, (pkts[i].t - now) * 1000 - 0.5));
    };
    step();
  });
  await new Promise((r) => setTimeout(r, 50));
  sock.close();
  process.stdout.write(`${sent}\n`);
}

if (require.main === module) void main(JSON.parse(process.argv[2]) as GeneratorSpec);
