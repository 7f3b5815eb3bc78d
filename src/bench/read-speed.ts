/**
 * Measures trace reading and decoding speed (not a test: `node dist/src/bench/read-speed.js
 * [packets]`, default 2 000 000). Writes pcap, pcapng and gzip traces of mixed call-like and
 * background packets (IPv4/IPv6, some VLAN-tagged) under /tmp once, then times
 * openTrace → next (→ decodePacket) over each and prints packets/s and peak RSS.
 */
import * as fs from 'fs';
import * as zlib from 'zlib';
import { decodePacket, newDecodedPacket, newRawPacket } from '../capture/decode';
import { openTrace } from '../capture/reader';
import type { DecodedPacket, PacketSource, RawPacket } from '../capture/types';
import { frameOf, pcapBytes, pcapngBytes, TracePacket, udpPacket, tcpPacket } from '../testkit/trace-writer';

function templates(): TracePacket[] {
  const out: TracePacket[] = [];
  for (let i = 0; i < 64; i++) {
    const v6 = i % 8 === 0;
    const size = [60, 120, 180, 900, 1100, 1200, 1250, 300][i % 8];
    const o = {
      src: v6 ? `2001:db8::${i + 1}` : `10.0.${i}.1`,
      dst: v6 ? '2001:db8::ff' : '192.0.2.10',
      sport: 40000 + i,
      dport: i % 3 ? 3478 : 443,
      payloadLen: size,
      ts: 0,
      vlan: i % 5 === 0 ? [100] : undefined,
    };
    out.push(i % 7 === 0 ? tcpPacket(o) : udpPacket(o));
  }
  return out;
}

/** Writes `n` packets as pcap (and a pcapng and gzip copy of the first part) in bounded memory. */
function makeTraces(n: number, dir: string): { pcap: string; pcapng: string; gz: string } {
  const files = {
    pcap: `${dir}/read-speed-${n}.pcap`,
    pcapng: `${dir}/read-speed-${n}.pcapng`,
    gz: `${dir}/read-speed-${n}.pcap.gz`,
  };
  if (fs.existsSync(files.gz)) return files;
  const t = templates();
  const frames = t.map((p) => frameOf(p, 1));
  const batch = 10000;
  const pcapFd = fs.openSync(files.pcap, 'w');
  const ngFd = fs.openSync(files.pcapng, 'w');
  const gzFd = fs.openSync(files.gz, 'w');
  for (let start = 0; start < n; start += batch) {
    const pkts: TracePacket[] = [];
    for (let i = start; i < Math.min(n, start + batch); i++)
      pkts.push({ ts: 1700000000 + i * 1e-4, frame: frames[(i * 7919) % 64] });
    const pcap = pcapBytes(pkts);
    const ng = pcapngBytes(pkts);
    // pcapBytes() starts every batch with a file header: the pcap keeps only the first (pcapng may repeat sections).
    fs.writeSync(pcapFd, start === 0 ? pcap : pcap.subarray(24));
    fs.writeSync(ngFd, ng);
    fs.writeSync(gzFd, zlib.gzipSync(start === 0 ? pcap : pcap.subarray(24), { level: 1 }));
  }
  [pcapFd, ngFd, gzFd].forEach((fd) => fs.closeSync(fd));
  return files;
}

interface Tally {
  packets: number;
  bytes: number;
}

/** What the reader has ready, in a plain loop: the one its callers run between waits. */
function readReady(src: PacketSource, raw: RawPacket, pkt: DecodedPacket, decode: boolean, t: Tally): void {
  while (src.next(raw)) {
    t.packets++;
    if (decode && decodePacket(raw, pkt)) t.bytes += pkt.ipLen + pkt.srcPort;
    else t.bytes += raw.wireLen;
  }
}

async function time(path: string, decode: boolean): Promise<{ packets: number; seconds: number; cpuSeconds: number }> {
  const src = await openTrace(path);
  const raw = newRawPacket();
  const pkt = newDecodedPacket();
  const t: Tally = { packets: 0, bytes: 0 };
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  do readReady(src, raw, pkt, decode, t);
  while (await src.more());
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  src.close();
  if (t.bytes === 0) throw new Error('nothing read'); // using the sum keeps the JIT from dropping the work
  return { packets: t.packets, seconds, cpuSeconds };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2_000_000);
  const generated = !fs.existsSync(`/tmp/read-speed-${n}.pcap.gz`);
  const files = makeTraces(n, '/tmp');
  for (const [kind, path] of Object.entries(files)) {
    for (const decode of [false, true]) {
      await time(path, decode); // warm the page cache and the JIT
      // Best of three, and per CPU second: on a shared machine wall time also measures the neighbours.
      const runs = [];
      for (let i = 0; i < 3; i++) runs.push(await time(path, decode));
      const wall = Math.max(...runs.map((r) => r.packets / r.seconds / 1e6));
      const cpu = Math.max(...runs.map((r) => r.packets / r.cpuSeconds / 1e6));
      console.log(
        `${kind.padEnd(6)} ${decode ? 'read+decode' : 'read       '} ${n} packets  ${wall.toFixed(2)} M packets/s (wall), ${cpu.toFixed(2)} M per CPU second`,
      );
    }
  }
  // VmHWM: getrusage's maxRSS would include the trace generation (and a parent's peak across exec).
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1]);
  console.log(
    `peak RSS ${(hwm / 1024).toFixed(0)} MB${generated ? ' (including writing the traces: run again for the reader alone)' : ''}`,
  );
}

if (require.main === module) void main();
