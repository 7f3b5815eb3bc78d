import * as fs from 'node:fs';
import * as path from 'node:path';
import { mulberry32 } from '../util/rng';
import { udpPacket, writePcap, type TracePacket } from '../testkit/trace-writer';

/**
 * Traffic made in code for training the call classifier.
 *
 * writeOpaqueCalls: calls in a format no rule knows (`--flows all`): encrypted from the first byte,
 * with a call's timing and sizes — audio at 20/40/60 ms packet times with silence suppression,
 * audio and video, and relay legs that carry one direction's media (as Telegram's reflectors do).
 *
 * writeCallNegatives: traffic that is not a call (`--flows none`): what a statistics-only
 * classifier could mistake for a call.
 * Each kind comes in seeded variants (rates, sizes, directions), 8 s each:
 *  - game: client ticks at 20-64 Hz, small; server snapshots at 10-60 Hz, larger and varied;
 *  - utp: BitTorrent uTP (BEP 29 header) — data one way, selective acks the other;
 *  - quic-video: QUIC short headers only (a connection caught mid-flow, off port 443): bursts down, acks up;
 *  - telemetry: constant-size keep-alives and sensor streams at 10-25 Hz both ways;
 *  - iptv: one-way MPEG-TS over UDP (7 × 188-byte cells) at 200-400 packets/s;
 *  - tunnels: WireGuard, OpenVPN and unknown encrypted tunnels, each carrying a call plus web
 *    traffic — a tunnel is never a call of its own (docs/calls.md). A tunnel of a format no rule
 *    knows that carries nothing but a call is left out: nothing in its sizes or timing tells it apart.
 * DNS and NTP bursts are left out: they never pass the classifier's gates (packets, rate).
 */

const T0 = 1_700_000_000;
const SECONDS = 8;

interface Side {
  src: string;
  dst: string;
  sport: number;
  dport: number;
}

function swap(s: Side): Side {
  return { src: s.dst, dst: s.src, sport: s.dport, dport: s.sport };
}

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

/** A periodic stream: `hz` packets/s with jitter, sizes from `size()`, payload from `body(len, i)`. */
function periodic(
  rnd: () => number,
  side: Side,
  hz: number,
  size: () => number,
  body: (len: number, i: number) => Buffer,
  jitter = 0.1,
): TracePacket[] {
  const out: TracePacket[] = [];
  let t = T0 + rnd() / hz;
  for (let i = 0; t < T0 + SECONDS; i++) {
    out.push(udpPacket({ ...side, ts: t, payload: body(size(), i) }));
    t += (1 + (rnd() - 0.5) * 2 * jitter) / hz;
  }
  return out;
}

function game(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: '192.168.7.20', dst: `203.0.113.${10 + v}`, sport: 50000 + v, dport: 27015 + v };
  const up = [20, 30, 60, 64][v % 4];
  const down = [10, 20, 30, 60][(v >> 1) % 4];
  const rb = (n: number) => randomBytes(rnd, n);
  return [
    ...periodic(rnd, c, up, () => 40 + Math.floor(rnd() * 80), rb, 0.05),
    ...periodic(rnd, swap(c), down, () => 80 + Math.floor(rnd() * (200 + 100 * v)), rb, 0.2),
  ];
}

function utp(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: '192.168.7.21', dst: `198.51.100.${20 + v}`, sport: 6881 + v, dport: 40000 + 7 * v };
  const out: TracePacket[] = [];
  const header = (type: number, len: number, seq: number) => {
    const b = randomBytes(rnd, len);
    b[0] = (type << 4) | 1;
    b[1] = 0;
    b.writeUInt16BE(seq & 0xffff, 16);
    return b;
  };
  let t = T0;
  for (let seq = 0; t < T0 + SECONDS; seq++) {
    // bursts of data as the window opens, paced by the acks
    const burst = 4 + Math.floor(rnd() * (10 + 5 * v));
    for (let k = 0; k < burst; k++) {
      out.push(udpPacket({ ...swap(c), ts: t, payload: header(0, 1100 + Math.floor(rnd() * 300), seq * 40 + k) }));
      t += 0.0005 + rnd() * 0.002;
    }
    out.push(udpPacket({ ...c, ts: t + 0.02, payload: header(2, 20 + (rnd() < 0.3 ? 8 : 0), seq) }));
    t += 0.02 + rnd() * 0.08;
  }
  return out;
}

function quicVideo(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: '192.168.7.22', dst: `192.0.2.${30 + v}`, sport: 51000 + v, dport: 8443 + v };
  const out: TracePacket[] = [];
  const short = (len: number) => {
    const b = randomBytes(rnd, len);
    b[0] = 0x40 | (b[0] & 0x3f);
    return b;
  };
  let t = T0 + rnd() * 0.2;
  while (t < T0 + SECONDS) {
    // a segment of video: a burst of full packets down, an ack up every few
    const n = 30 + Math.floor(rnd() * 150);
    for (let k = 0; k < n; k++) {
      out.push(udpPacket({ ...swap(c), ts: t, payload: short(1200 + Math.floor(rnd() * 150)) }));
      if (k % 3 === 2) out.push(udpPacket({ ...c, ts: t + 0.001, payload: short(35 + Math.floor(rnd() * 20)) }));
      t += 0.0002 + rnd() * 0.001;
    }
    t += 0.3 + rnd() * (1 + v * 0.3);
  }
  return out;
}

function telemetry(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: '192.168.7.23', dst: `198.51.100.${60 + v}`, sport: 47000 + v, dport: 9000 + v };
  const len = 60 + 20 * v;
  const hz = [10, 12, 16, 20, 25][v % 5];
  const body = (n: number, i: number) => {
    const b = randomBytes(rnd, n);
    b.writeUInt32BE(0xfeed0000 + v, 0);
    b.writeUInt32BE(i, 4);
    return b;
  };
  return [
    ...periodic(rnd, c, hz, () => len, body, 0.02),
    ...periodic(rnd, swap(c), hz / (1 + (v % 2)), () => 32, body, 0.02),
  ];
}

function iptv(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: `198.51.100.${90 + v}`, dst: '192.168.7.24', sport: 5000, dport: 1234 + v };
  const body = (n: number) => {
    const b = randomBytes(rnd, n);
    for (let k = 0; k < 7; k++) b[k * 188] = 0x47;
    return b;
  };
  return periodic(rnd, c, 200 + 50 * v, () => 1316, body, 0.3);
}

/** Sizes and times of a call (audio 50/s both ways, video frames 30/s) and of a web download, mixed. */
function callInside(rnd: () => number): Array<{ dt: number; out: boolean; len: number }> {
  const ev: Array<{ dt: number; out: boolean; len: number }> = [];
  for (let t = 0; t < SECONDS; t += 0.02) {
    ev.push({ dt: t + rnd() * 0.002, out: true, len: 90 + Math.floor(rnd() * 40) });
    ev.push({ dt: t + 0.01 + rnd() * 0.004, out: false, len: 90 + Math.floor(rnd() * 40) });
  }
  for (let t = 0; t < SECONDS; t += 1 / 30) {
    const frame = 1 + Math.floor(rnd() * 4);
    for (let k = 0; k < frame; k++)
      ev.push({ dt: t + k * 0.001, out: rnd() < 0.5, len: 600 + Math.floor(rnd() * 600) });
  }
  for (let t = 1 + rnd(); t < SECONDS; t += 1.5 + rnd()) {
    for (let k = 0; k < 80; k++) ev.push({ dt: t + k * 0.0008, out: false, len: 1380 });
  }
  return ev.sort((a, b) => a.dt - b.dt);
}

/** A known tunnel (WireGuard, OpenVPN: the rules exclude them) or, every other pair, one no rule knows. */
function tunnel(rnd: () => number, v: number): TracePacket[] {
  const kind = v % 4 < 2 ? v % 2 : 2;
  const c: Side = {
    src: '192.168.7.25',
    dst: `203.0.113.${120 + v}`,
    sport: 51820 + v,
    dport: [51820, 1194, 4433][kind],
  };
  let counter = 0;
  return callInside(rnd).map((e) => {
    const side = e.out ? c : swap(c);
    let b: Buffer;
    if (kind === 0) {
      // WireGuard transport data: type 4, receiver index, counter, ciphertext padded to 16 (+16 tag)
      b = randomBytes(rnd, 16 + Math.ceil((e.len + 16) / 16) * 16);
      b.writeUInt32LE(4, 0);
      b.writeUInt32LE(e.out ? 0x1234 : 0x5678, 4);
      b.writeUInt32LE(counter++, 8);
    } else if (kind === 1) {
      // OpenVPN data v2: opcode 9 key 0, peer id, packet id, ciphertext
      b = randomBytes(rnd, e.len + 24);
      b[0] = 0x48;
      b.writeUIntBE(7, 1, 3);
      b.writeUInt32BE(counter++, 4);
    } else {
      b = randomBytes(rnd, e.len + 28);
    }
    return udpPacket({ ...side, ts: T0 + e.dt, payload: b });
  });
}

const KINDS: Record<string, (rnd: () => number, v: number) => TracePacket[]> = {
  game,
  utp,
  'quic-video': quicVideo,
  telemetry,
  iptv,
};

/** Media of one direction: audio every `ptime` s (sparser in silences), video frames at `fps` (0: none). */
function media(rnd: () => number, side: Side, ptime: number, fps: number, videoKbps: number): TracePacket[] {
  const out: TracePacket[] = [];
  let talking = rnd() < 0.5;
  let switchAt = T0 + 0.5 + rnd() * 2;
  for (let t = T0 + rnd() * ptime; t < T0 + SECONDS;) {
    if (t > switchAt) {
      talking = !talking;
      switchAt = t + 0.5 + rnd() * 3;
    }
    const len = talking ? 70 + Math.floor(rnd() * 110) : 40 + Math.floor(rnd() * 10);
    out.push(udpPacket({ ...side, ts: t, payload: randomBytes(rnd, len) }));
    // silence suppression (DTX): a comfort-noise packet now and then instead of every packet time
    t += talking ? ptime * (1 + (rnd() - 0.5) * 0.1) : 0.2 + rnd() * 0.2;
  }
  if (fps === 0) return out;
  for (let t = T0 + rnd() / fps; t < T0 + SECONDS; t += (1 / fps) * (1 + (rnd() - 0.5) * 0.2)) {
    let bytes = ((videoKbps * 1000) / 8 / fps) * (0.5 + rnd()) * (rnd() < 0.03 ? 5 : 1);
    for (let k = 0; bytes > 0; k++) {
      const len = Math.min(1100 + Math.floor(rnd() * 100), Math.max(200, Math.floor(bytes)));
      out.push(udpPacket({ ...side, ts: t + k * 0.0005, payload: randomBytes(rnd, len) }));
      bytes -= len;
    }
  }
  return out;
}

/** Control traffic back up a relay leg: reports and keep-alives every 0.2-1 s. */
function reports(rnd: () => number, side: Side): TracePacket[] {
  const out: TracePacket[] = [];
  for (let t = T0 + rnd(); t < T0 + SECONDS; t += 0.2 + rnd() * 0.8) {
    out.push(udpPacket({ ...side, ts: t, payload: randomBytes(rnd, 40 + Math.floor(rnd() * 60)) }));
  }
  return out;
}

function opaqueCall(rnd: () => number, v: number): TracePacket[] {
  const c: Side = { src: '192.168.8.30', dst: `198.51.100.${150 + v}`, sport: 40000 + 13 * v, dport: 20000 + 101 * v };
  const ptime = [0.02, 0.04, 0.06, 0.02][v % 4];
  const fps = v % 3 === 0 ? 0 : [15, 24, 30][v % 3];
  const kbps = 150 + 200 * (v % 5);
  if (v % 4 === 3) return [...media(rnd, swap(c), ptime, fps, kbps), ...reports(rnd, c)];
  return [...media(rnd, c, ptime, fps, kbps), ...media(rnd, swap(c), ptime, v % 2 === 0 ? fps : 0, kbps)];
}

type Kinds = Record<string, (rnd: () => number, v: number) => TracePacket[]>;

function writeKinds(dir: string, prefix: string, kinds: Kinds, variants: number, seed: number): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  for (const [name, make] of Object.entries(kinds)) {
    for (let v = 0; v < variants; v++) {
      const packets = make(mulberry32(seed * 1000 + v * 31 + name.length), v).sort((a, b) => a.ts - b.ts);
      const file = path.join(dir, `${prefix}-${name}-${v}.pcap`);
      writePcap(file, packets);
      files.push(file);
    }
  }
  return files;
}

/** Writes VARIANTS pcaps of each kind of not-a-call traffic into `dir`; returns their paths. */
export function writeCallNegatives(dir: string, variants = 8, seed = 14): string[] {
  return [
    ...writeKinds(dir, 'not-a-call', KINDS, variants, seed),
    // twice as many tunnels: half of them of a kind the rules know, half unknown
    ...writeKinds(dir, 'not-a-call', { tunnel }, 2 * variants, seed),
  ];
}

/** Writes VARIANTS pcaps of calls in no known format into `dir`; returns their paths. */
export function writeOpaqueCalls(dir: string, variants = 16, seed = 14): string[] {
  return writeKinds(dir, 'opaque-call', { call: opaqueCall }, variants, seed);
}
