import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractTrace } from '../../src/features/extract';
import { loadLabels } from '../../src/features/labels';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS } from '../../src/features/pipeline';
import { parseCidr } from '../../src/flow/local';
import { loadRules } from '../../src/rules/load';
import { projectRoot } from '../../src/rules/paths';
import { CollectSink } from './packets';

/** The lab's real recorded WebRTC calls (test/fixtures/calls/NAME.json + trace + labels). */
interface Scenario {
  name: string;
  trace: string;
  labels: string;
  localIp: string;
  peers?: { B?: { ip: string } };
  calls: Array<{
    local: { ip: string; port: number; protocol: string };
    remote: { ip: string; port: number; protocol: string };
  }>;
}

/** The browser's stats may hide the remote address (an mDNS candidate): the remote is then peer B. */
function remoteIp(s: Scenario, c: Scenario['calls'][number]): string | undefined {
  return c.remote.ip || s.peers?.B?.ip;
}

const dir = path.join(projectRoot(), 'test/fixtures/calls');
const scenarios: Scenario[] = fs.existsSync(dir)
  ? fs
      .readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')))
  : [];

test(
  'lab recordings: extract finds exactly the call flows and names them webrtc',
  { skip: scenarios.length === 0 && 'no recordings in test/fixtures/calls yet' },
  async () => {
    const rules = loadRules();
    for (const s of scenarios) {
      const sink = new CollectSink();
      const summary = await extractTrace(
        path.join(dir, s.trace),
        {
          windowMs: 500,
          rules,
          local: [parseCidr(s.localIp)],
          idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
          maxFlows: DEFAULT_MAX_FLOWS,
          labels: loadLabels(path.join(dir, s.labels)),
        },
        sink,
      );
      const found = sink.starts
        .map((f) => `${f.app} ${f.protocol} ${f.srcIP}:${f.srcPort} ${f.desIP}:${f.desPort}`)
        .sort();
      const want = s.calls
        .map(
          (c) =>
            `webrtc ${c.local.protocol.toUpperCase()} ${c.local.ip}:${c.local.port} ${remoteIp(s, c)}:${c.remote.port}`,
        )
        .sort();
      assert.deepEqual(found, want, s.name);
      assert.equal(summary.warnings.length, 0, `${s.name}: ${summary.warnings.join('; ')}`);
      // windows run without a gap from the call's first to its last, and most carry a label
      const byFlow = new Map<string, number[]>();
      for (const w of sink.windows) byFlow.set(w.flowID, [...(byFlow.get(w.flowID) ?? []), w.start]);
      for (const [id, starts] of byFlow) {
        starts.forEach(
          (t, i) => i > 0 && assert.ok(Math.abs(t - starts[i - 1] - 0.5) < 1e-6, `${s.name} ${id}: gap at ${t}`),
        );
      }
      const labelled = sink.windows.filter((w) => w.label !== undefined).length;
      assert.ok(
        labelled > sink.windows.length * 0.8,
        `${s.name}: only ${labelled} of ${sink.windows.length} windows labelled`,
      );
      assert.ok(
        sink.windows.some((w) => w.label === 1) && sink.windows.some((w) => w.label === 0),
        `${s.name}: both classes`,
      );
    }
  },
);

test(
  'lab recordings: every camera is on throughout, and no window of either side says otherwise',
  { skip: scenarios.length === 0 && 'no recordings in test/fixtures/calls yet' },
  async () => {
    const rules = loadRules();
    let sides = 0;
    for (const s of scenarios) {
      for (const ip of new Set([s.localIp, ...s.calls.map((c) => remoteIp(s, c)!)])) {
        const sink = new CollectSink();
        await extractTrace(
          path.join(dir, s.trace),
          {
            windowMs: 500,
            rules,
            local: [parseCidr(ip)],
            idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
            maxFlows: DEFAULT_MAX_FLOWS,
          },
          sink,
        );
        const off = sink.windows.filter((w) => w.sent !== 'video' && w.srcIP === ip);
        assert.equal(
          off.length,
          0,
          `${s.name}, seen from ${ip}: camera called off at ${off.map((w) => w.start).join(', ')}`,
        );
        sides++;
      }
    }
    assert.ok(sides >= 2 * scenarios.length);
  },
);

test(
  'lab recordings: the call windows hold exactly the packets and bytes tshark counts for the call',
  { skip: scenarios.length === 0 && 'no recordings in test/fixtures/calls yet' },
  async () => {
    const rules = loadRules();
    for (const s of scenarios.slice(0, 2)) {
      const sink = new CollectSink();
      await extractTrace(
        path.join(dir, s.trace),
        {
          windowMs: 500,
          rules,
          local: [parseCidr(s.localIp)],
          idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
          maxFlows: DEFAULT_MAX_FLOWS,
        },
        sink,
      );
      for (const c of s.calls) {
        const filter = `ip.addr==${c.local.ip} && ip.addr==${remoteIp(s, c)} && udp.port==${c.local.port} && udp.port==${c.remote.port}`;
        const r = spawnSync(
          'tshark',
          ['-n', '-r', path.join(dir, s.trace), '-Y', filter, '-T', 'fields', '-e', 'frame.len'],
          { encoding: 'utf8', maxBuffer: 64 << 20 },
        );
        assert.equal(r.status, 0, r.stderr);
        const lens = r.stdout.trim().split('\n').map(Number);
        const windows = sink.windows.filter((w) => w.srcPort === c.local.port && w.desPort === c.remote.port);
        assert.equal(
          windows.reduce((a, w) => a + w.packets, 0),
          lens.length,
          `${s.name}: packets`,
        );
        assert.equal(
          windows.reduce((a, w) => a + w.bytes, 0),
          lens.reduce((a, b) => a + b, 0),
          `${s.name}: bytes`,
        );
      }
    }
  },
);

test("the recordings under test/ stay within 20 MB in total (the lab issue's budget)", () => {
  const traces: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else if (/\.pcap(ng)?(\.gz)?$/.test(e.name)) traces.push(path.join(d, e.name));
    }
  };
  walk(path.join(projectRoot(), 'test'));
  const bytes = traces.reduce((n, f) => n + fs.statSync(f).size, 0);
  assert.ok(traces.length >= 30, `${traces.length} recordings`);
  assert.ok(bytes <= 20e6, `${traces.length} recordings, ${(bytes / 1e6).toFixed(2)} MB`);
});
