/** Command-line options of `npm run lab`, with the defaults of an ordinary recording. */
import { parseArgs } from 'node:util';
import type { Codec } from './call';
import { FIGURES, Figure } from './figure';
import { SCENES, Scene } from './room';

export interface LabOptions {
  name: string;
  out: string;
  seconds: number;
  segMin: number;
  segMax: number;
  /** Explicit schedule for peer A ("background:20,person:35,..."), overrides the random one. */
  schedule?: string;
  /** Peer A switches its camera off over this span of its video time (s). */
  cameraOff?: { from: number; to: number };
  codec: Codec;
  width: number;
  height: number;
  fps: number;
  scene: Scene;
  figure: Figure;
  motion: number;
  noise: number;
  seed: number;
  maxKbps: number;
  delayMs: number;
  lossPct: number;
  rateKbit: number;
  calls: 1 | 2;
  backgroundTraffic: boolean;
  gzip: boolean;
  /** Cut each stored packet to this many bytes (0: as captured). */
  storeBytes: number;
  subnet: number;
}

export const USAGE = `usage: npm run lab -- [options]
  --name NAME          output base name (default: call)        --out DIR   (default: test/fixtures/calls)
  --quick              a ~30 s recording with short segments at 320x180@15 (for tests)
  --seconds N          call length (default 150)   --seg-min/--seg-max S  segment lengths (default 15/50)
  --schedule LIST      peer A's schedule, e.g. background:20,person:35,...
  --camera-off A-B     peer A switches its camera off from A s to B s (its senders stop sending video)
  --codec VP8|VP9|H264 (default VP8)   --max-kbps N  video sender cap, 0 = none (default 0)
  --width/--height/--fps   camera format (default 640x360@30)
  --scene office|living|kitchen   --figure a|b|c   --motion X (default 1)   --noise SIGMA (default 1.5)
  --seed N             content seed (room, person, schedules; default 1)
  --delay-ms N --loss-pct P   round-trip delay and loss: netem, or a UDP relay on the call's path
                       where the kernel has no sch_netem (relay.ts)
  --rate-kbit N        link rate limit (netem or tbf)
  --calls 1|2          two simultaneous calls from peer A (default 1)
  --background-traffic also an HTTP download and DNS look-ups between the namespaces
  --gzip               store the trace as NAME.pcapng.gz
  --store-bytes N      cut each stored packet to N bytes (0 = as captured, 128; the fixtures use 54:
                       Ethernet, IPv4 and UDP headers and the 12 payload bytes the call rules read)
  --subnet N           the lab network is 10.77.N.0/24 (default 77)`;

function oneOf<T extends string>(what: string, v: string, all: readonly T[]): T {
  if (!all.includes(v as T)) throw new Error(`--${what} must be one of ${all.join(', ')}, not "${v}"`);
  return v as T;
}

function num(what: string, v: string, lo: number, hi: number): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < lo || n > hi)
    throw new Error(`--${what} must be a number in ${lo}..${hi}, not "${v}"`);
  return n;
}

function span(what: string, v: string, seconds: number): { from: number; to: number } {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(v);
  const from = m ? Number(m[1]) : NaN;
  const to = m ? Number(m[2]) : NaN;
  if (!(from < to && to <= seconds))
    throw new Error(`--${what} must be FROM-TO seconds within the call (0..${seconds}), not "${v}"`);
  return { from, to };
}

// Below 54 bytes the IPv4/UDP headers or the STUN/DTLS/RTP header the call rules read would be cut.
function storeBytes(v: string): number {
  const n = num('store-bytes', v, 0, 128);
  if (n !== 0 && n < 54) throw new Error(`--store-bytes must be 0 or 54..128, not "${v}"`);
  return n;
}

export function parseOptions(argv: string[]): LabOptions {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      name: { type: 'string', default: 'call' },
      out: { type: 'string', default: 'test/fixtures/calls' },
      quick: { type: 'boolean', default: false },
      seconds: { type: 'string' },
      'seg-min': { type: 'string' },
      'seg-max': { type: 'string' },
      schedule: { type: 'string' },
      'camera-off': { type: 'string' },
      codec: { type: 'string', default: 'VP8' },
      width: { type: 'string' },
      height: { type: 'string' },
      fps: { type: 'string' },
      scene: { type: 'string', default: 'office' },
      figure: { type: 'string', default: 'a' },
      motion: { type: 'string', default: '1' },
      noise: { type: 'string', default: '1.5' },
      seed: { type: 'string', default: '1' },
      'max-kbps': { type: 'string', default: '0' },
      'delay-ms': { type: 'string', default: '0' },
      'loss-pct': { type: 'string', default: '0' },
      'rate-kbit': { type: 'string', default: '0' },
      calls: { type: 'string', default: '1' },
      'background-traffic': { type: 'boolean', default: false },
      gzip: { type: 'boolean', default: false },
      'store-bytes': { type: 'string', default: '0' },
      subnet: { type: 'string', default: '77' },
      help: { type: 'boolean', default: false },
    },
  });
  if (v.help) {
    process.stdout.write(USAGE + '\n');
    process.exit(0);
  }
  const quick = v.quick!;
  const seconds = num('seconds', v.seconds ?? (quick ? '30' : '150'), 10, 600);
  return {
    name: v.name!,
    out: v.out!,
    seconds,
    segMin: num('seg-min', v['seg-min'] ?? (quick ? '4' : '15'), 1, 300),
    segMax: num('seg-max', v['seg-max'] ?? (quick ? '8' : '50'), 1, 300),
    schedule: v.schedule,
    cameraOff: v['camera-off'] === undefined ? undefined : span('camera-off', v['camera-off'], seconds),
    codec: oneOf('codec', v.codec!.toUpperCase(), ['VP8', 'VP9', 'H264'] as const),
    // Quick mode also shrinks the camera, so a test renders and encodes in seconds.
    width: num('width', v.width ?? (quick ? '320' : '640'), 160, 1920),
    height: num('height', v.height ?? (quick ? '180' : '360'), 90, 1080),
    fps: num('fps', v.fps ?? (quick ? '15' : '30'), 5, 60),
    scene: oneOf('scene', v.scene!, SCENES),
    figure: oneOf('figure', v.figure!, FIGURES),
    motion: num('motion', v.motion!, 0, 3),
    noise: num('noise', v.noise!, 0, 10),
    seed: num('seed', v.seed!, 0, 1e9),
    maxKbps: num('max-kbps', v['max-kbps']!, 0, 20000),
    delayMs: num('delay-ms', v['delay-ms']!, 0, 2000),
    lossPct: num('loss-pct', v['loss-pct']!, 0, 50),
    rateKbit: num('rate-kbit', v['rate-kbit']!, 0, 1e6),
    calls: num('calls', v.calls!, 1, 2) as 1 | 2,
    backgroundTraffic: v['background-traffic']!,
    gzip: v.gzip!,
    storeBytes: storeBytes(v['store-bytes']!),
    subnet: num('subnet', v.subnet!, 1, 254),
  };
}
