/**
 * Seeded generator of Spy-Your-Mate-form calls (0.5 s windows, 12 features, class `Person`),
 * built to be hard in the way real calls are: absolute levels (bitrate cap, packet size, frame
 * rate) differ strongly between calls; the empty room is noise-filled for VP8/VP9-like codecs
 * (the encoder spends much of its target on sensor noise) and near-silent for H264-like ones;
 * presence segments have random lengths and shares; the inbound direction carries the other
 * party's unrelated video; rate control ramps over seconds; keyframes spike.
 */
import { mulberry32 as rng } from '../../util/rng';

export const SYM_FEATURES = [
  'Inbound Avg Interval',
  'Outbound Avg Interval',
  'All Avg Interval',
  'Inbound Avg Size',
  'Outbound Avg Size',
  'All Avg Size',
  'Inbound Packets',
  'Outbound Packets',
  'All Packets',
  'Inbound Bit Rate',
  'Outbound Bit Rate',
  'All Bit Rate',
];

export type Codec = 'vp8' | 'vp9' | 'h264';

export interface SynthCall {
  codec: Codec;
  rows: number[][];
  labels: (0 | 1)[];
}

const WINDOW_S = 0.5;

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

const between = (r: () => number, a: number, b: number): number => a + (b - a) * r();
const logBetween = (r: () => number, a: number, b: number): number => Math.exp(between(r, Math.log(a), Math.log(b)));

/** Presence schedule: alternating segments of 8–90 s, random first state. */
function schedule(r: () => number, windows: number): (0 | 1)[] {
  const out: (0 | 1)[] = [];
  let state: 0 | 1 = r() < 0.5 ? 1 : 0;
  const meanPerson = between(r, 15, 60);
  const meanEmpty = between(r, 10, 50);
  while (out.length < windows) {
    const len = Math.max(20, Math.round((logBetween(r, 0.4, 2.2) * (state ? meanPerson : meanEmpty)) / WINDOW_S));
    for (let i = 0; i < len && out.length < windows; i++) out.push(state);
    state = state ? 0 : 1;
  }
  return out;
}

/** What makes one sender's stream look the way it does: codec, cap, packet size, frame rate… */
export interface StreamSetup {
  codec: Codec;
  cap: number;
  emptyShare: number;
  pkt: number;
  fps: number;
  noise: number;
  keyEvery: number;
  audioPps: number;
  audioSize: number;
  ramp: number;
}

function streamSetup(r: () => number, codec: Codec): StreamSetup {
  return {
    codec,
    cap: logBetween(r, 250e3, 3e6), // bit/s with a person
    emptyShare:
      codec === 'h264' ? logBetween(r, 0.01, 0.08) : codec === 'vp9' ? between(r, 0.2, 0.6) : between(r, 0.2, 0.55),
    pkt: between(r, 700, 1200),
    fps: between(r, 12, 30),
    noise: between(r, 0.08, 0.25),
    keyEvery: Math.round(between(r, 6, 40) / WINDOW_S),
    audioPps: between(r, 25, 50),
    audioSize: between(r, 80, 220),
    ramp: between(r, 0.2, 0.6), // rate-control memory per window
  };
}

/** One direction's video+audio stream: bytes and packets per window given a presence track. */
function stream(r: () => number, setup: StreamSetup, presence: (0 | 1)[]): { bytes: number[]; packets: number[] } {
  const { codec, cap, emptyShare, pkt, fps, noise, keyEvery, audioPps, audioSize, ramp } = setup;
  let level = presence[0] ? 1 : emptyShare;
  let motion = 1;
  const bytes: number[] = [];
  const packets: number[] = [];
  presence.forEach((p, i) => {
    const target = p ? 1 : emptyShare;
    level = ramp * level + (1 - ramp) * target;
    motion = 0.8 * motion + 0.2 * (p ? logBetween(r, 0.7, 1.4) : 1);
    let v = (cap / 8) * WINDOW_S * level * (p ? motion : 1) * Math.exp(noise * gauss(r));
    if (i % keyEvery === 0) v *= between(r, 2, 4);
    // frames carry at least one packet each
    const frames = fps * WINDOW_S * (p || codec !== 'h264' ? 1 : between(r, 0.3, 1));
    const vp = Math.max(Math.round(frames), Math.round(v / pkt + gauss(r)));
    const ap = Math.max(0, Math.round(audioPps * WINDOW_S + gauss(r)));
    packets.push(vp + ap);
    bytes.push(Math.max(vp * 60, v) + ap * audioSize * Math.exp(0.1 * gauss(r)));
  });
  return { bytes, packets };
}

/**
 * One call. `setup` fixes the local sender (the Spy Your Mate calls were made from the same laptop
 * and app each time: their levels carry over); by default every call has a setup of its own.
 */
export function synthCall(seed: number, minutes?: number, setup?: StreamSetup): SynthCall {
  const r = rng(seed * 7919 + 17);
  const codecs: Codec[] = ['vp8', 'vp9', 'h264'];
  const codec = codecs[Math.floor(r() * 3)];
  const windows = Math.round(((minutes ?? between(r, 4, 8)) * 60) / WINDOW_S);
  const labels = schedule(r, windows);
  const own = streamSetup(r, codec);
  const out = stream(r, setup ?? own, labels);
  // the other party: its own presence, codec and levels, unrelated to the label
  const otherCodec = codecs[Math.floor(r() * 3)];
  const otherSchedule = schedule(r, windows);
  const other = stream(r, streamSetup(r, otherCodec), otherSchedule);
  const rows = labels.map((_, i) => {
    const ip = other.packets[i];
    const op = out.packets[i];
    const ib = other.bytes[i];
    const ob = out.bytes[i];
    const interval = (n: number): number => (n > 1 ? WINDOW_S / n : 0);
    const size = (b: number, n: number): number => (n > 0 ? b / n : 0);
    return [
      interval(ip),
      interval(op),
      interval(ip + op),
      size(ib, ip),
      size(ob, op),
      size(ib + ob, ip + op),
      ip,
      op,
      ip + op,
      ib,
      ob,
      ib + ob,
    ];
  });
  return { codec: (setup ?? own).codec, rows, labels };
}

/**
 * The report's CSV form: empty-header index, `Time Interval` text, 12 features (SYM_FEATURES
 * order), `Person`; one row per 0.5 s window, in time order.
 */
export function reportCsv(rows: readonly ArrayLike<number>[], labels: ArrayLike<number>): string {
  const lines = [['', 'Time Interval', ...SYM_FEATURES, 'Person'].join(',')];
  rows.forEach((row, i) => {
    const t0 = (i * WINDOW_S).toFixed(1);
    const t1 = ((i + 1) * WINDOW_S).toFixed(1);
    lines.push(
      [String(i), `${t0}-${t1}`, ...Array.from(row, (v) => String(Math.round(v * 1e6) / 1e6)), String(labels[i])].join(
        ',',
      ),
    );
  });
  return lines.join('\n') + '\n';
}

export function synthCsv(call: SynthCall): string {
  return reportCsv(call.rows, call.labels);
}

/** A sender setup of its own seed, for calls that share one (see synthCall). */
export function synthSetup(seed: number): StreamSetup {
  const r = rng(seed * 104729 + 3);
  return streamSetup(r, (['vp8', 'vp9', 'h264'] as Codec[])[Math.floor(r() * 3)]);
}
