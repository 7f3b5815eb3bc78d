import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { DEFAULT_PEN, END_ACTIVE, IpfixEncoder, type IpfixRecord } from '../../src/export/ipfix';
import { projectRoot } from '../../src/rules/paths';
import { tempDir } from '../../src/testkit/temp';
import { runCli, startCli } from '../live/run-cli';
import { freePort } from '../../src/testkit/postgres';

const T0 = 1700000000;
const FIXTURE = path.join(projectRoot(), 'test', 'fixtures', 'calls', 'kitchen-h264.pcapng.gz');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}
const noIpfixDump = has('ipfixDump') ? false : 'ipfixDump not found (apt-get install libfixbuf-tools)';
const noNfdump = has('nfcapd') && has('nfdump') ? false : 'nfcapd/nfdump not found (apt-get install nfdump)';

test(
  'ipfixDump (libfixbuf) decodes our messages, and names our elements from the RFC 5610 type records',
  { skip: noIpfixDump },
  () => {
    const enc = new IpfixEncoder(DEFAULT_PEN, 7, 1400);
    const base: IpfixRecord = {
      srcIP: '10.0.0.1',
      desIP: '192.0.2.7',
      srcPort: 50000,
      desPort: 8801,
      protocol: 17,
      startMs: T0 * 1000,
      endMs: (T0 + 10) * 1000,
      packets: 2400,
      octets: 869592,
      endReason: END_ACTIVE,
      flowId: '3a7247169aab4186',
      app: 'zoom',
      presence: 'person',
      probability: 0.875,
      callCertainty: 100,
      cameraOff: false,
    };
    const v6: IpfixRecord = {
      ...base,
      srcIP: '2001:db8::1',
      desIP: '2001:db8::2',
      presence: 'camera-off',
      cameraOff: true,
      probability: null,
    };
    // 40 records: more than one 1400-byte message
    const records = Array.from({ length: 40 }, (_, i) => (i % 2 ? { ...v6, packets: i } : { ...base, packets: i }));
    const templates = enc.templates(T0 + 20);
    const data = enc.data(records, T0 + 20);
    assert.ok(data.length >= 2);
    for (const d of data) assert.ok(d.message.length <= 1400);
    assert.equal(
      data.reduce((n, d) => n + d.records, 0),
      40,
    );
    const file = path.join(tempDir('ipfix'), 'stream.ipfix');
    fs.writeFileSync(file, Buffer.concat([templates, ...data.map((d) => d.message)]));
    const r = spawnSync('ipfixDump', ['--rfc5610', '-i', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout;
    assert.match(out, /observation domain id: 7/);
    assert.match(out, /sourceIPv4Address : 10\.0\.0\.1/);
    assert.match(out, /sourceIPv6Address : 2001:0db8::0001/);
    assert.match(out, /destinationTransportPort : 8801/);
    assert.match(out, /octetDeltaCount : 869592/);
    assert.match(out, /\(32473\/1\)\s+spymateApp : \(len: 4\) zoom/);
    assert.match(out, /\(32473\/2\)\s+spymatePresence : \(len: 10\) camera-off/);
    assert.match(out, /\(32473\/3\)\s+spymatePresenceProbability : 0\.875/);
    assert.match(out, /\(32473\/4\)\s+spymateCallCertainty : 100/);
    assert.match(out, /\(32473\/5\)\s+spymateCameraOff : 1/);
    assert.match(out, /\(32473\/6\)\s+spymateFlowId : \(len: 16\) 3a7247169aab4186/);
    const counts = [...out.matchAll(/packetDeltaCount : (\d+)/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      counts,
      Array.from({ length: 40 }, (_, i) => i),
    );
    // sequence numbers count the data records sent before each message (RFC 7011 3.1)
    const seqs = [...out.matchAll(/sequence number: (\d+)/g)].map((m) => Number(m[1]));
    assert.equal(seqs[0], 0);
    assert.equal(seqs[1], 6, 'after the six type records');
  },
);

/** The NDJSON records of a run: each flow's end event, and its windows. */
function flowsOf(ndjson: string): Map<string, { end: Record<string, number | string>; windows: number }> {
  const flows = new Map<string, { end: Record<string, number | string>; windows: number }>();
  for (const line of ndjson.split('\n')) {
    if (!line.startsWith('{')) continue;
    const o = JSON.parse(line) as Record<string, number | string>;
    const id = String(o.flowID);
    if (o.event === 'window')
      flows.set(id, { end: flows.get(id)?.end ?? {}, windows: (flows.get(id)?.windows ?? 0) + 1 });
    if (o.event === 'end') flows.set(id, { end: o, windows: flows.get(id)?.windows ?? 0 });
  }
  return flows;
}

function freeUdpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** The replay of FIXTURE with --ipfix URL (and `more`), records to DIR/records.ndjson. */
function replayArgs(dir: string, url: string, more: string[]): string[] {
  const out = path.join(dir, 'records.ndjson');
  return ['-f', FIXTURE, '--headless', '--db', path.join(dir, 'x.db'), '--out', out, '--ipfix', url, ...more];
}

/** The one call's end record in DIR/records.ndjson. */
function endOf(dir: string): Record<string, number | string> {
  const flows = flowsOf(fs.readFileSync(path.join(dir, 'records.ndjson'), 'utf8'));
  assert.equal(flows.size, 1);
  return [...flows.values()][0].end;
}

/** A TCP collector on 127.0.0.1 that keeps the bytes it gets. */
async function tcpCollector(
  port = 0,
): Promise<{ port: number; chunks: Buffer[]; connections: () => number; close: () => void }> {
  const chunks: Buffer[] = [];
  let connections = 0;
  const server = net.createServer((s) => {
    connections++;
    s.on('data', (c: Buffer) => chunks.push(c));
  });
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return {
    port: (server.address() as net.AddressInfo).port,
    chunks,
    connections: () => connections,
    close: () => server.close(),
  };
}

/** ipfixDump --rfc5610 over a stream of messages (an IPFIX file is one), and the delta counts in it. */
function dump(dir: string, chunks: Buffer[]): { text: string; packets: number[]; octets: number[] } {
  const file = path.join(dir, 'stream.ipfix');
  fs.writeFileSync(file, Buffer.concat(chunks));
  const r = spawnSync('ipfixDump', ['--rfc5610', '-i', file], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const counts = (name: string): number[] =>
    [...r.stdout.matchAll(new RegExp(`${name} : (\\d+)`, 'g'))].map((m) => Number(m[1]));
  return { text: r.stdout, packets: counts('packetDeltaCount'), octets: counts('octetDeltaCount') };
}

const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);

test(
  'nfcapd receives a replay over UDP, and nfdump -r shows its call with the right addresses, ports, packets and bytes',
  { skip: noNfdump },
  async () => {
    const dir = tempDir('nfcapd');
    const port = await freeUdpPort();
    const flowsDir = path.join(dir, 'flows');
    fs.mkdirSync(flowsDir);
    const nfcapd = spawn('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', flowsDir, '-t', '3600'], {
      stdio: 'ignore',
    });
    try {
      await new Promise((r) => setTimeout(r, 500));
      const run = await runCli(
        replayArgs(dir, `udp://127.0.0.1:${port}`, ['--speed', 'max', '--ipfix-interval', '10']),
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /IPFIX udp:\/\/127\.0\.0\.1:\d+: 13 records in 2 messages/);
      const summary = JSON.parse(run.stdout.trim().split('\n').pop() as string) as {
        event: string;
        ipfix: { records: number };
      };
      assert.equal(summary.event, 'summary');
      assert.equal(summary.ipfix.records, 13);
    } finally {
      nfcapd.kill('SIGTERM'); // nfcapd writes its file when it stops
      await new Promise((r) => nfcapd.once('exit', r));
    }
    const files = fs.readdirSync(flowsDir).filter((f) => f.startsWith('nfcapd.'));
    assert.equal(files.length, 1);
    const r = spawnSync('nfdump', ['-r', path.join(flowsDir, files[0]), '-o', 'json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const recs = JSON.parse(r.stdout) as Array<Record<string, string | number>>;
    const end = endOf(dir);
    assert.equal(recs.length, 13);
    for (const x of recs) {
      assert.deepEqual(
        [x.src4_addr, x.dst4_addr, x.src_port, x.dst_port, x.proto],
        [end.srcIP, end.desIP, end.srcPort, end.desPort, 17],
      );
    }
    assert.equal(sum(recs.map((x) => Number(x.in_packets))), end.packets);
    assert.equal(sum(recs.map((x) => Number(x.in_bytes))), end.bytes);
    // the same through nfdump's own aggregation, as an operator would ask for it
    const agg = spawnSync('nfdump', ['-q', '-N', '-r', path.join(flowsDir, files[0]), '-a', '-o', 'csv'], {
      encoding: 'utf8',
    });
    assert.match(
      agg.stdout,
      new RegExp(`${end.srcIP},${end.desIP},${end.srcPort},${end.desPort},UDP,.*,${end.packets},${end.bytes},`),
    );
  },
);

test(
  'over TCP the collector gets one stream of whole messages, templates first; ipfixDump reads it back',
  { skip: noIpfixDump },
  async () => {
    const dir = tempDir('ipfix-tcp');
    const collector = await tcpCollector();
    try {
      const run = await runCli(
        replayArgs(dir, `tcp://127.0.0.1:${collector.port}`, ['--speed', 'max', '--ipfix-interval', '30']),
      );
      assert.equal(run.code, 0, run.stderr);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      collector.close();
    }
    assert.equal(collector.connections(), 1);
    const d = dump(dir, collector.chunks);
    const end = endOf(dir);
    // a 124 s call, reports every 30 s of its time: 4 interval reports and the end
    assert.equal(d.packets.length, 5);
    assert.equal(sum(d.packets), end.packets);
    assert.equal(sum(d.octets), end.bytes);
    assert.equal([...d.text.matchAll(new RegExp(`spymateFlowId : \\(len: 16\\) ${end.flowID}`, 'g'))].length, 5);
    assert.match(d.text, /spymateApp : \(len: 6\) webrtc/);
    assert.match(d.text, /flowEndReason : 4/, 'end-of-trace: forced end');
  },
);

test(
  'a TCP collector that comes up late gets every report: they wait, the exporter connects again',
  { skip: noIpfixDump, timeout: 60_000 },
  async () => {
    const dir = tempDir('ipfix-late');
    const port = await freePort();
    const run = startCli(replayArgs(dir, `tcp://127.0.0.1:${port}`, ['--speed', '20']));
    await new Promise((r) => setTimeout(r, 2500));
    const collector = await tcpCollector(port);
    try {
      const r = await run.result;
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(`IPFIX collector tcp://127\\.0\\.0\\.1:${port} unreachable \\(ECONNREFUSED\\)`),
      );
      assert.match(r.stderr, /accepts again: sending \d+ waiting reports/);
      await new Promise((res) => setTimeout(res, 200));
    } finally {
      collector.close();
    }
    const d = dump(dir, collector.chunks);
    assert.equal(d.packets.length, 13);
    assert.equal(sum(d.packets), endOf(dir).packets);
  },
);
