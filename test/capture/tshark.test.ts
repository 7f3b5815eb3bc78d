import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../src/rules/paths';
import {
  TCP_ACK,
  TCP_FIN,
  TCP_SYN,
  tcpPacket,
  TracePacket,
  udpPacket,
  writePcap,
  writePcapng,
} from '../../src/testkit/trace-writer';
import { countFlows, FlowCount, readAll, tempDir, tshark } from './trace-files';

/**
 * Per-flow packet and byte counts from openTrace + decodePacket must equal tshark's.
 * tshark 4.0 prints conversation bytes rounded down to kB/MB, so frames and rounded bytes are
 * compared with `-z conv,…`, and exact bytes with a per-frame field dump of the same file.
 */
const dir = tempDir('tshark');

interface ConvRow {
  frames: number;
  size: number;
  unit: number;
}
type Proto = 'udp' | 'tcp';

function flowKey(a: string, b: string): string {
  return a < b ? `${a} <-> ${b}` : `${b} <-> ${a}`;
}

/** Parses `tshark -q -z conv,udp -z conv,tcp`; keys as countFlows makes them. */
function tsharkConversations(file: string): Record<Proto, Map<string, ConvRow>> {
  const out = { udp: new Map<string, ConvRow>(), tcp: new Map<string, ConvRow>() };
  const units: Record<string, number> = { bytes: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  let table = out.udp;
  for (const line of tshark(['-r', file, '-q', '-z', 'conv,udp', '-z', 'conv,tcp']).split('\n')) {
    if (/^(UDP|TCP) Conversations/.test(line)) table = line.startsWith('UDP') ? out.udp : out.tcp;
    const m =
      /^(\S+)\s+<->\s+(\S+)\s+[\d,]+\s+[\d,]+ \S+\s+[\d,]+\s+[\d,]+ \S+\s+([\d,]+)\s+([\d,]+) (bytes|kB|MB|GB)\s/.exec(
        line,
      );
    if (m)
      table.set(flowKey(m[1], m[2]), {
        frames: Number(m[3].replace(/,/g, '')),
        size: Number(m[4].replace(/,/g, '')),
        unit: units[m[5]],
      });
  }
  return out;
}

interface TsharkFrame {
  ts: number;
  len: number;
  proto: Proto | null;
  key: string;
}

/** tshark's per-frame view: time, wire length, and the UDP/TCP conversation (not for ICMP errors quoting one). */
function tsharkFrames(file: string): TsharkFrame[] {
  const fields = [
    'frame.time_epoch',
    'frame.len',
    'ip.src',
    'ipv6.src',
    'ip.dst',
    'ipv6.dst',
    'udp.srcport',
    'udp.dstport',
    'tcp.srcport',
    'tcp.dstport',
    'icmp.type',
    'icmpv6.type',
  ];
  return tshark(['-r', file, '-T', 'fields', '-E', 'occurrence=f', ...fields.flatMap((f) => ['-e', f])])
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [ts, len, s4, s6, d4, d6, us, ud, tsrc, tdst, icmp, icmp6] = line.split('\t');
      const proto: Proto | null = icmp || icmp6 ? null : us ? 'udp' : tsrc ? 'tcp' : null;
      const [sp, dp] = proto === 'udp' ? [us, ud] : [tsrc, tdst];
      return { ts: Number(ts), len: Number(len), proto, key: flowKey(`${s4 || s6}:${sp}`, `${d4 || d6}:${dp}`) };
    });
}

/** Exact wire bytes per conversation from tshark's own per-frame dissection. */
function exactBytes(frames: TsharkFrame[]): Record<Proto, Map<string, number>> {
  const out = { udp: new Map<string, number>(), tcp: new Map<string, number>() };
  for (const f of frames) {
    if (f.proto) out[f.proto].set(f.key, (out[f.proto].get(f.key) ?? 0) + f.len);
  }
  return out;
}

/** Per-flow counts equal tshark's conversations; with `timestamps`, every frame's time too. */
async function assertMatchesTshark(file: string, timestamps = false): Promise<{ flows: number; packets: number }> {
  let flows = 0;
  let packets = 0;
  const conv = tsharkConversations(file);
  const frames = tsharkFrames(file);
  const exact = exactBytes(frames);
  if (timestamps) await assertSameTimestamps(file, frames);
  for (const [proto, num] of [
    ['udp', 17],
    ['tcp', 6],
  ] as const) {
    const ours = await countFlows(file, num);
    assert.deepEqual([...ours.keys()].sort(), [...conv[proto].keys()].sort(), `${proto} conversations of ${file}`);
    for (const [key, c] of ours as Map<string, FlowCount>) {
      const t = conv[proto].get(key)!;
      assert.equal(c.packets, t.frames, `${key} packets`);
      assert.equal(Math.floor(c.bytes / t.unit), t.size, `${key} bytes ${c.bytes} vs tshark's ${t.size} × ${t.unit}`);
      assert.equal(c.bytes, exact[proto].get(key), `${key} exact bytes`);
      flows++;
      packets += c.packets;
    }
  }
  return { flows, packets };
}

/** A few call-like and background flows over IPv4 and IPv6, UDP and TCP, some VLAN-tagged, sizes 0..1400. */
function mixedTraffic(): TracePacket[] {
  const out: TracePacket[] = [];
  const flows = [
    { src: '192.168.1.20', dst: '142.250.1.1', sport: 50001, dport: 19302 },
    { src: '10.0.0.5', dst: '52.1.2.3', sport: 61000, dport: 3478, vlan: [20] },
    { src: '2001:db8:1::20', dst: '2a00:1450::1', sport: 50002, dport: 443 },
    { src: 'fe80::1', dst: 'fe80::2', sport: 5353, dport: 5353, vlan: [100, 7] },
  ];
  for (let i = 0; i < 400; i++) {
    const f = flows[i % flows.length];
    const back = i % 3 === 0;
    const o = {
      ...f,
      src: back ? f.dst : f.src,
      dst: back ? f.src : f.dst,
      sport: back ? f.dport : f.sport,
      dport: back ? f.sport : f.dport,
      payloadLen: (i * 97) % 1400,
      ts: 1700000000 + i * 0.02,
    };
    out.push(
      i % 8 < 4
        ? tcpPacket({ ...o, flags: i === 1 ? TCP_SYN : i === 393 ? TCP_FIN | TCP_ACK : TCP_ACK })
        : udpPacket(o),
    );
  }
  return out;
}

test('written traces: every link type, VLAN, PPPoE, MPLS, IPv6, snaplen 96 — per-flow counts equal tshark conv,udp and conv,tcp', async () => {
  const pkts = mixedTraffic();
  const plain = pkts.map((p) => ({ ...p, vlan: undefined }));
  const cases: Array<[string, () => void]> = [
    ['eth-vlan.pcap', () => writePcap(path.join(dir, 'eth-vlan.pcap'), pkts)],
    [
      'eth-snap96.pcap',
      () => writePcap(path.join(dir, 'eth-snap96.pcap'), pkts, { snaplen: 96, byteOrder: 'be', resolution: 'ns' }),
    ],
    ['sll.pcap', () => writePcap(path.join(dir, 'sll.pcap'), plain, { linkType: 113 })],
    ['sll2.pcap', () => writePcap(path.join(dir, 'sll2.pcap'), plain, { linkType: 276, snaplen: 128 })],
    ['raw.pcap', () => writePcap(path.join(dir, 'raw.pcap'), plain, { linkType: 101 })],
    ['null.pcap', () => writePcap(path.join(dir, 'null.pcap'), plain, { linkType: 0 })],
    [
      'pppoe-mpls.pcap',
      () =>
        writePcap(
          path.join(dir, 'pppoe-mpls.pcap'),
          plain.map((p, i) => ({ ts: p.ts, frame: tunnelled(p.ip!, i) })),
        ),
    ],
    [
      'multi.pcapng',
      () =>
        writePcapng(
          path.join(dir, 'multi.pcapng'),
          pkts.map((p, i) => ({ ...p, vlan: i % 3 === 0 ? p.vlan : undefined, iface: i % 3 })),
          { interfaces: [{ linkType: 1 }, { linkType: 276, tsresol: 9 }, { linkType: 101, snaplen: 96 }] },
        ),
    ],
  ];
  for (const [name, write] of cases) {
    write();
    const { flows, packets } = await assertMatchesTshark(path.join(dir, name));
    assert.equal(flows, 8, name); // 4 address pairs × UDP and TCP
    assert.equal(packets, pkts.length, name);
  }
});

/** An Ethernet frame carrying `ip` over a PPPoE session (IPv4 and IPv6 PPP) or an MPLS label stack. */
function tunnelled(ip: Buffer, i: number): Buffer {
  const macs = Buffer.from('020000000002020000000001', 'hex');
  if (i % 2) return Buffer.concat([macs, Buffer.from('8847' + '00001040' + '00002140', 'hex'), ip]);
  const pppoe = Buffer.from('8864' + '1100' + '0001' + '0000' + (ip[0] >> 4 === 6 ? '0057' : '0021'), 'hex');
  pppoe.writeUInt16BE(ip.length + 2, 6);
  return Buffer.concat([macs, pppoe, ip]);
}

/** Starts a capture tool and resolves once it says it is capturing (on stderr). */
function startRecorder(cmd: 'tcpdump' | 'dumpcap', args: string[]): Promise<ChildProcess> {
  const ready = cmd === 'tcpdump' ? 'listening on' : 'Capturing on';
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      reject(new Error(`${cmd} did not start: ${err}`));
    }, 10000);
    p.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes(ready)) {
        clearTimeout(timer);
        resolve(p);
      }
    });
    p.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited ${code}: ${err}`));
    });
  });
}

/** SIGINT makes both tools flush and close their file. */
function stopRecorder(p: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    p.removeAllListeners('exit');
    p.on('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    p.kill('SIGINT');
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 60 UDP datagrams of 1..9000 bytes to 127.0.0.1 and ::1 (received, so no ICMP), and a short TCP exchange. */
async function loopbackTraffic(udpPort: number, tcpPort: number): Promise<void> {
  const rx4 = dgram.createSocket('udp4');
  const rx6 = dgram.createSocket({ type: 'udp6', ipv6Only: true });
  await Promise.all([
    new Promise<void>((r) => rx4.bind(udpPort, '127.0.0.1', r)),
    new Promise<void>((r) => rx6.bind(udpPort, '::1', r)),
  ]);
  const tx4 = dgram.createSocket('udp4');
  const tx6 = dgram.createSocket('udp6');
  for (let i = 0; i < 60; i++) {
    const size = [1, 100, 172, 900, 1200, 1472, 3000, 9000][i % 8];
    const [tx, host] = i % 3 === 0 ? [tx6, '::1'] : [tx4, '127.0.0.1'];
    await new Promise<void>((r, j) => tx.send(Buffer.alloc(size, i), udpPort, host, (e) => (e ? j(e) : r())));
  }
  const server = net.createServer((s) => s.on('data', (d) => s.write(d)).on('end', () => s.end()));
  await new Promise<void>((r) => server.listen(tcpPort, '127.0.0.1', r));
  await new Promise<void>((resolve, reject) => {
    const c = net.connect(tcpPort, '127.0.0.1', () => {
      let got = 0;
      c.on('data', (d) => {
        got += d.length;
        if (got >= 20000) c.end();
      });
      c.write(Buffer.alloc(20000, 1));
    });
    c.on('close', () => resolve());
    c.on('error', reject);
  });
  await sleep(200);
  server.close();
  for (const s of [rx4, rx6, tx4, tx6]) s.close();
}

/** Our timestamps against tshark's frame.time_epoch, frame by frame. */
async function assertSameTimestamps(file: string, frames = tsharkFrames(file)): Promise<void> {
  const ours = (await readAll(file)).packets.map((p) => p.ts);
  assert.equal(ours.length, frames.length, file);
  ours.forEach((ts, i) =>
    assert.ok(Math.abs(ts - frames[i].ts) < 1e-6, `${file} frame ${i + 1}: ${ts} vs tshark ${frames[i].ts}`),
  );
}

test(
  "real recordings of loopback traffic (tcpdump pcap on lo and any, dumpcap pcapng on both at once, editcap and gzip copies, snaplen 128): per-flow counts and timestamps equal tshark's",
  { timeout: 90000 },
  async (t) => {
    if (process.getuid?.() !== 0) return t.skip('capturing on lo needs root');
    const udpPort = 20000 + (process.pid % 20000);
    const tcpPort = udpPort + 1;
    const filter = `udp port ${udpPort} or tcp port ${tcpPort}`;
    const lo = path.join(dir, 'lo.pcap');
    const any = path.join(dir, 'any.pcap');
    const both = path.join(dir, 'lo-any.pcapng');
    const tcpdump = ['-n', '-U', '--immediate-mode', '-Z', 'root', '-s', '128'];
    const recorders = await Promise.all([
      startRecorder('tcpdump', ['-i', 'lo', ...tcpdump, '-w', lo, filter]),
      startRecorder('tcpdump', ['-i', 'any', ...tcpdump, '--time-stamp-precision=nano', '-w', any, filter]),
      startRecorder('dumpcap', [
        '-i',
        'lo',
        '-s',
        '128',
        '-f',
        filter,
        '-i',
        'any',
        '-s',
        '128',
        '-f',
        filter,
        '-w',
        both,
      ]),
    ]);
    try {
      await sleep(1000); // "listening" is printed a moment before the kernel filter is in place
      await loopbackTraffic(udpPort, tcpPort);
      await sleep(500);
    } finally {
      await Promise.all(recorders.map(stopRecorder));
    }
    const nsec = path.join(dir, 'lo-nsec.pcap');
    execFileSync('editcap', ['-F', 'nsecpcap', lo, nsec]);
    const gz = path.join(dir, 'lo-any.pcapng.gz');
    execFileSync('sh', ['-c', `gzip -c '${both}' > '${gz}'`]);
    for (const file of [lo, any, both, nsec, gz]) {
      const { flows, packets } = await assertMatchesTshark(file, true);
      assert.ok(flows >= 3, `${file}: ${flows} flows`); // UDP v4, UDP v6, TCP
      assert.ok(packets >= 60 + 6, `${file}: ${packets} packets`);
      const read = await readAll(file);
      assert.deepEqual(read.warnings, []);
      assert.ok(
        read.packets.some((p) => p.capLen === 128 && p.wireLen > 128),
        `${file}: snaplen cut some packets`,
      );
    }
    assert.deepEqual([...new Set((await readAll(lo)).packets.map((p) => p.linkType))], [1]);
    assert.deepEqual([...new Set((await readAll(any)).packets.map((p) => p.linkType))], [276]);
    // dumpcap's "any" interface records Linux cooked frames (SLL or SLL2 by libpcap version).
    const bothTypes = new Set((await readAll(both)).packets.map((p) => p.linkType));
    assert.ok(bothTypes.has(1) && (bothTypes.has(113) || bothTypes.has(276)), [...bothTypes].join());
  },
);

test("timestamps of written traces (ns pcap, pcapng with 10^-9, 2^-20 and ms resolution and an offset) equal tshark's", async () => {
  const pkts = mixedTraffic()
    .slice(0, 60)
    .map((p) => ({ ...p, vlan: undefined }));
  const ns = path.join(dir, 'ts-ns.pcap');
  writePcap(ns, pkts, { resolution: 'ns', byteOrder: 'be' });
  await assertSameTimestamps(ns);
  const ng = path.join(dir, 'ts.pcapng');
  writePcapng(
    ng,
    pkts.map((p, i) => ({ ...p, iface: i % 4 })),
    {
      byteOrder: 'be',
      interfaces: [
        { linkType: 1, tsresol: 9 },
        { linkType: 1, tsresol: 0x80 | 20 },
        { linkType: 101, tsresol: 3 },
        { linkType: 113, tsoffset: 1600000000 },
      ],
    },
  );
  await assertSameTimestamps(ng);
});

test(
  "the lab's recorded WebRTC calls (the three smallest): per-flow counts and timestamps equal tshark's",
  { timeout: 120000 },
  async (t) => {
    const calls = path.join(projectRoot(), 'test', 'fixtures', 'calls');
    // All are recorded the same way; three bound the suite's time as the lab adds calls.
    const size = (f: string) => fs.statSync(path.join(calls, f)).size;
    const traces = fs.existsSync(calls)
      ? fs
          .readdirSync(calls)
          .filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f))
          .sort((a, b) => size(a) - size(b))
          .slice(0, 3)
      : [];
    if (traces.length === 0) return t.skip('no recorded calls in test/fixtures/calls yet');
    for (const name of traces) {
      const file = path.join(calls, name);
      const { flows, packets } = await assertMatchesTshark(file, true);
      assert.ok(flows >= 1 && packets > 1000, `${name}: ${flows} flows, ${packets} packets`);
    }
  },
);
