/**
 * End to end: `npm run lab -- --quick` makes a real call between two headless Chromiums in
 * network namespaces and leaves a trace, labels and a scenario that agree with each other.
 * Needs root (namespaces, tcpdump), Debian's chromium and tshark; skips, saying why, otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CHROMIUM } from '../../src/lab/browser';
import { checkRecording } from '../../src/lab/check';
import { payloadShape, rtpSsrc, SHAPE_RTP, SHAPE_STUN } from '../../src/rules/shapes';

function missing(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root for network namespaces and tcpdump';
  if (!fs.existsSync(CHROMIUM)) return `needs Debian's chromium at ${CHROMIUM}`;
  for (const tool of ['tcpdump', 'tshark', 'editcap', 'ip']) {
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `needs ${tool}`;
    }
  }
  return undefined;
}

const why = missing();

/**
 * From A's side of the trace: round trips of A's STUN checks (request → response, matched on the
 * transaction ID's first bytes, which the 54-byte cut keeps) and the share of the remote's RTP
 * sequence numbers missing — the delay and loss the call's path really had.
 */
function pathSeenFromA(trace: string, localIp: string): { rttMs: number[]; inboundLoss: number } {
  const rows = execFileSync(
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
      'udp.length',
      '-e',
      'udp.payload',
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  )
    .trim()
    .split('\n')
    .map((l) => l.split('\t'));
  const asked = new Map<string, number>();
  const rttMs: number[] = [];
  const seqs = new Map<number, Set<number>>();
  for (const [t, src, udpLen, hex] of rows) {
    const b = Buffer.from(hex ?? '', 'hex');
    // the rules' own reading of the header the 54-byte cut keeps
    const shape = payloadShape(b, 0, b.length, Number(udpLen) - 8);
    if (shape === SHAPE_STUN && b.length >= 12) {
      const id = b.subarray(8, 12).toString('hex');
      if (b.readUInt16BE(0) === 0x0001 && src === localIp) asked.set(id, Number(t));
      else if (b.readUInt16BE(0) === 0x0101 && src !== localIp && asked.has(id))
        rttMs.push((Number(t) - asked.get(id)!) * 1000);
    } else if (shape === SHAPE_RTP && src !== localIp) {
      const ssrc = rtpSsrc(b, 0, b.length);
      if (!seqs.has(ssrc)) seqs.set(ssrc, new Set());
      seqs.get(ssrc)!.add(b.readUInt16BE(2));
    }
  }
  let expected = 0,
    got = 0;
  for (const s of seqs.values()) {
    if (s.size < 100) continue;
    expected += Math.max(...s) - Math.min(...s) + 1;
    got += s.size;
  }
  return { rttMs: rttMs.sort((x, y) => x - y), inboundLoss: expected ? 1 - got / expected : NaN };
}

test(
  'lab --quick records a labelled two-way WebRTC call over a 60 ms, 1 % loss path, stored cut to 54 bytes a packet',
  { skip: why ? `lab: ${why}` : false, timeout: 120_000 },
  () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-lab-test-'));
    try {
      const r = spawnSync(
        process.execPath,
        [
          path.resolve(__dirname, '../../src/lab/run.js'),
          '--quick',
          '--seconds',
          '20',
          '--name',
          'quick',
          '--out',
          out,
          '--subnet',
          '201',
          '--store-bytes',
          '54',
          '--delay-ms',
          '60',
          '--loss-pct',
          '1',
        ],
        { encoding: 'utf8', timeout: 110_000 },
      );
      assert.equal(r.status, 0, `lab failed:\n${r.stderr}`);
      const trace = path.join(out, 'quick.pcapng');
      for (const f of [trace, path.join(out, 'quick.labels.csv'), path.join(out, 'quick.json')])
        assert.ok(fs.existsSync(f), `missing ${f}`);

      const labels = fs.readFileSync(path.join(out, 'quick.labels.csv'), 'utf8').trim().split('\n');
      assert.equal(labels[0], 'start,end,label');
      assert.ok(labels.length >= 3, 'quick schedule has at least two labelled segments');
      const scenario = JSON.parse(fs.readFileSync(path.join(out, 'quick.json'), 'utf8'));
      assert.equal(scenario.calls.length, 1);
      assert.equal(scenario.localIp, scenario.calls[0].local.ip);
      // the remote peer's camera is labelled too, on its own clock
      const remote = fs.readFileSync(path.join(out, 'quick.B.labels.csv'), 'utf8').trim().split('\n');
      assert.deepEqual(
        remote.slice(1).map((l) => l.split(',')[2]),
        scenario.peers.B.schedule.map((s: { label: string }) => s.label).slice(0, remote.length - 1),
      );
      assert.ok(
        Math.abs(Number(remote[1].split(',')[0]) - Math.max(scenario.peers.B.videoStartEpoch, scenario.capture.start)) <
          0.002,
      );

      // stored as the fixtures are: every packet cut to 54 bytes, its length on the wire kept
      assert.equal(scenario.capture.storedBytes, 54);
      const sizes = execFileSync('tshark', ['-r', trace, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len'], {
        encoding: 'utf8',
      })
        .trim()
        .split('\n')
        .map((l) => l.split('\t').map(Number));
      assert.ok(
        sizes.every(([cap, len]) => cap === Math.min(54, len)),
        'a packet not cut to 54 bytes',
      );
      assert.ok(
        sizes.some(([, len]) => len > 500),
        'wire lengths kept',
      );
      // the path had the asked delay and loss: by netem where the kernel has it, else through the lab's relay
      assert.match(scenario.network.method, /^(netem|relay)$/);
      assert.deepEqual([scenario.network.delayMs, scenario.network.lossPct], [60, 1]);
      const path_ = pathSeenFromA(trace, scenario.localIp);
      assert.ok(path_.rttMs.length >= 2, `only ${path_.rttMs.length} STUN round trips seen`);
      const rtt = path_.rttMs[path_.rttMs.length >> 1];
      assert.ok(rtt >= 50 && rtt <= 150, `median STUN round trip ${rtt.toFixed(1)} ms, asked 60`);
      assert.ok(
        path_.inboundLoss > 0.001 && path_.inboundLoss < 0.04,
        `inbound RTP loss ${(100 * path_.inboundLoss).toFixed(2)} %, asked 1 %`,
      );
      const [call] = checkRecording(trace);
      assert.ok(
        call.packetsOut >= 300 && call.packetsIn >= 300,
        `call flow too thin: ${call.packetsOut} out / ${call.packetsIn} in`,
      );
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  },
);
