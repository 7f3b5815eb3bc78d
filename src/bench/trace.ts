import * as fs from 'node:fs';
import * as path from 'node:path';
import { frameOf, tcpPacket, udpPacket, TCP_ACK, type TracePacket } from '../testkit/trace-writer';
import { rtpPayload, stunPayload } from '../testkit/synthetic';
import { mulberry32 } from '../util/rng';

/**
 * The benchmark trace: ~2.1 M packets over 300 s, cut at snaplen 128 as a monitoring capture is
 * (tcpdump -s 128), made deterministically from a seed and cached outside git.
 * Mix: 12 WebRTC-like video calls (IPv4 and IPv6, some on a VLAN; person/background phases),
 * 4 TCP downloads with their ACKs, 3 QUIC flows to 443, DNS (a new flow every 20 ms),
 * NTP, and a stream of one-packet UDP flows to random ports.
 */
export const BENCH_TRACE_VERSION = 1;
const DURATION_S = 300;
const T0 = 1_700_000_000;
const SNAPLEN = 128;

/** A packet stream that knows when its next packet is due. */
interface Stream {
  ts: number;
  /** builds the packet due at `ts` and moves `ts` on (Infinity when done) */
  emit(): TracePacket;
}

function callStreams(rnd: () => number, i: number): Stream[] {
  const v6 = i % 3 === 2;
  const a = v6 ? `2001:db8:1::${i + 1}` : `192.168.${i}.10`;
  const b = v6 ? `2001:db8:2::${i + 1}` : `10.20.${i}.30`;
  const aPort = 40000 + i;
  const bPort = 50000 + i;
  const vlan = i % 4 === 1 ? [100 + i] : undefined;
  const start = T0 + rnd() * 5;
  const streams: Stream[] = [];
  for (const fromA of [true, false]) {
    const src = fromA ? a : b;
    const dst = fromA ? b : a;
    const sport = fromA ? aPort : bPort;
    const dport = fromA ? bPort : aPort;
    const ssrcV = (i << 8) | (fromA ? 1 : 2);
    const ssrcA = (i << 8) | (fromA ? 3 : 4);
    let seq = 0;
    // video: 30 frames/s, each a burst of packets; frames are larger and vary more with a person
    let frame = 0;
    let left = 0;
    let stunDone = false;
    const video: Stream = {
      ts: start + (fromA ? 0 : 0.003),
      emit() {
        const ts = this.ts;
        if (!stunDone) {
          stunDone = true;
          this.ts += 0.01;
          return udpPacket({ src, dst, sport, dport, ts, vlan, payload: stunPayload(16) });
        }
        if (left === 0) {
          const person = Math.floor((ts - T0) / 30 + i) % 2 === 0;
          left = person ? 2500 + Math.floor(rnd() * 5000) : 500 + Math.floor(rnd() * 300);
        }
        const len = Math.min(1100, left);
        left -= len;
        const p = udpPacket({
          src,
          dst,
          sport,
          dport,
          ts,
          vlan,
          payload: rtpPayload(96, seq++, frame * 3000, ssrcV, len + 12),
        });
        if (left > 0) this.ts += 0.0004;
        else {
          frame++;
          this.ts = start + frame / 30 + (fromA ? 0 : 0.003);
        }
        if (this.ts > T0 + DURATION_S) this.ts = Infinity;
        return p;
      },
    };
    let k = 0;
    const audio: Stream = {
      ts: start + 0.011,
      emit() {
        const ts = this.ts;
        this.ts = start + 0.011 + ++k * 0.02;
        if (this.ts > T0 + DURATION_S) this.ts = Infinity;
        return udpPacket({
          src,
          dst,
          sport,
          dport,
          ts,
          vlan,
          payload: rtpPayload(111, seq++, k * 960, ssrcA, 80 + Math.floor(rnd() * 40)),
        });
      },
    };
    streams.push(video, audio);
  }
  return streams;
}

function downloadStream(rnd: () => number, i: number): Stream {
  const client = i % 2 === 0 ? `192.168.50.${i + 2}` : `2001:db8:50::${i + 2}`;
  const server = i % 2 === 0 ? `93.184.216.${i + 10}` : `2001:db8:99::${i + 10}`;
  const cport = 45000 + i;
  let n = 0;
  let seq = 1;
  return {
    ts: T0 + rnd(),
    emit() {
      const ts = this.ts;
      this.ts += 0.0011 + rnd() * 0.0008;
      if (this.ts > T0 + DURATION_S) this.ts = Infinity;
      // every third packet is the client's ACK
      if (++n % 3 === 0)
        return tcpPacket({ src: client, dst: server, sport: cport, dport: 443, ts, flags: TCP_ACK, ack: seq });
      const p = tcpPacket({
        src: server,
        dst: client,
        sport: 443,
        dport: cport,
        ts,
        flags: TCP_ACK,
        seq,
        payloadLen: 1448,
      });
      seq += 1448;
      return p;
    },
  };
}

function quicStream(rnd: () => number, i: number): Stream {
  const client = `192.168.60.${i + 2}`;
  const server = `142.250.${i}.14`;
  const payload = Buffer.alloc(1200);
  return {
    ts: T0 + rnd(),
    emit() {
      const ts = this.ts;
      this.ts += 0.002 + rnd() * 0.004;
      if (this.ts > T0 + DURATION_S) this.ts = Infinity;
      const down = rnd() < 0.8;
      for (let j = 0; j < 16; j++) payload[j] = Math.floor(rnd() * 256);
      payload[0] = 0x40 | (payload[0] & 0x3f);
      const len = down ? 1200 : 40;
      return udpPacket({
        src: down ? server : client,
        dst: down ? client : server,
        sport: down ? 443 : 51000 + i,
        dport: down ? 51000 + i : 443,
        ts,
        payload: payload.subarray(0, len),
      });
    },
  };
}

function dnsStream(rnd: () => number): Stream {
  let q = 0;
  let answer = false;
  return {
    ts: T0,
    emit() {
      const ts = this.ts;
      const port = 20000 + (q % 40000);
      const p = answer
        ? udpPacket({
            src: '192.168.1.1',
            dst: '192.168.1.15',
            sport: 53,
            dport: port,
            ts,
            payloadLen: 90 + Math.floor(rnd() * 100),
          })
        : udpPacket({
            src: '192.168.1.15',
            dst: '192.168.1.1',
            sport: port,
            dport: 53,
            ts,
            payloadLen: 30 + Math.floor(rnd() * 20),
          });
      if (answer) q++;
      answer = !answer;
      this.ts = T0 + q * 0.02 + (answer ? 0.004 : 0);
      if (this.ts > T0 + DURATION_S) this.ts = Infinity;
      return p;
    },
  };
}

function scanStream(rnd: () => number): Stream {
  return {
    ts: T0,
    emit() {
      const ts = this.ts;
      this.ts += 0.005;
      if (this.ts > T0 + DURATION_S) this.ts = Infinity;
      const dst = `198.51.${Math.floor(rnd() * 256)}.${Math.floor(rnd() * 256)}`;
      return udpPacket({
        src: '192.168.1.15',
        dst,
        sport: 10000 + Math.floor(rnd() * 50000),
        dport: 1 + Math.floor(rnd() * 65000),
        ts,
        payloadLen: 32,
      });
    },
  };
}

function ntpStream(): Stream {
  let n = 0;
  return {
    ts: T0 + 0.5,
    emit() {
      const ts = this.ts;
      this.ts = T0 + 0.5 + ++n * 16;
      if (this.ts > T0 + DURATION_S) this.ts = Infinity;
      const p = Buffer.alloc(48);
      p[0] = 0x23;
      return udpPacket({ src: '192.168.1.15', dst: '162.159.200.1', sport: 123, dport: 123, ts, payload: p });
    },
  };
}

/** Writes the trace (streaming, in time order) and returns the packet count. */
function generate(file: string): number {
  const rnd = mulberry32(0x5eed);
  const streams: Stream[] = [];
  for (let i = 0; i < 12; i++) streams.push(...callStreams(rnd, i));
  for (let i = 0; i < 4; i++) streams.push(downloadStream(rnd, i));
  for (let i = 0; i < 3; i++) streams.push(quicStream(rnd, i));
  streams.push(dnsStream(rnd), scanStream(rnd), ntpStream());

  const fd = fs.openSync(file, 'w');
  const buf = Buffer.alloc(4 << 20);
  let used = 0;
  const flush = () => {
    fs.writeSync(fd, buf, 0, used);
    used = 0;
  };
  buf.writeUInt32LE(0xa1b2c3d4, 0);
  buf.writeUInt16LE(2, 4);
  buf.writeUInt16LE(4, 6);
  buf.writeUInt32LE(SNAPLEN, 16);
  buf.writeUInt32LE(1, 20);
  used = 24;
  let count = 0;
  for (;;) {
    // few streams: a linear scan for the earliest is cheaper than a heap here
    let next: Stream | null = null;
    for (const s of streams) if (next === null || s.ts < next.ts) next = s;
    if (next === null || next.ts === Infinity) break;
    const pkt = next.emit();
    const frame = frameOf(pkt, 1);
    const cap = Math.min(frame.length, SNAPLEN);
    if (used + 16 + cap > buf.length) flush();
    const sec = Math.floor(pkt.ts);
    buf.writeUInt32LE(sec, used);
    buf.writeUInt32LE(Math.min(999999, Math.round((pkt.ts - sec) * 1e6)), used + 4);
    buf.writeUInt32LE(cap, used + 8);
    buf.writeUInt32LE(frame.length, used + 12);
    frame.copy(buf, used + 16, 0, cap);
    used += 16 + cap;
    count++;
  }
  flush();
  fs.closeSync(fd);
  return count;
}

/** The cached benchmark trace, made on first use. */
export function benchTrace(cacheDir: string): { file: string; packets: number } {
  const file = path.join(cacheDir, `bench-v${BENCH_TRACE_VERSION}.pcap`);
  const meta = `${file}.count`;
  if (fs.existsSync(file) && fs.existsSync(meta)) return { file, packets: Number(fs.readFileSync(meta, 'utf8')) };
  const tmp = `${file}.tmp`;
  const packets = generate(tmp);
  fs.renameSync(tmp, file);
  fs.writeFileSync(meta, String(packets));
  return { file, packets };
}
