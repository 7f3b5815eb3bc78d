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
import { CHROMIUM } from './browser';
import { checkRecording } from './check';

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

test('lab --quick records a labelled two-way WebRTC call, stored cut to 54 bytes a packet', { skip: why ? `lab: ${why}` : false, timeout: 120_000 }, () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-lab-test-'));
  try {
    // The child must not see the test runner's marker, or run.js would stand down (see run.ts).
    const env = { ...process.env };
    delete env.NODE_TEST_CONTEXT;
    const r = spawnSync(process.execPath, [path.join(__dirname, 'run.js'), '--quick', '--seconds', '20', '--name', 'quick', '--out', out, '--subnet', '201', '--store-bytes', '54'],
      { env, encoding: 'utf8', timeout: 110_000 });
    assert.equal(r.status, 0, `lab failed:\n${r.stderr}`);
    const trace = path.join(out, 'quick.pcapng');
    for (const f of [trace, path.join(out, 'quick.labels.csv'), path.join(out, 'quick.json')]) assert.ok(fs.existsSync(f), `missing ${f}`);

    const labels = fs.readFileSync(path.join(out, 'quick.labels.csv'), 'utf8').trim().split('\n');
    assert.equal(labels[0], 'start,end,label');
    assert.ok(labels.length >= 3, 'quick schedule has at least two labelled segments');
    const scenario = JSON.parse(fs.readFileSync(path.join(out, 'quick.json'), 'utf8'));
    assert.equal(scenario.calls.length, 1);
    assert.equal(scenario.localIp, scenario.calls[0].local.ip);
    // the remote peer's camera is labelled too, on its own clock
    const remote = fs.readFileSync(path.join(out, 'quick.B.labels.csv'), 'utf8').trim().split('\n');
    assert.deepEqual(remote.slice(1).map((l) => l.split(',')[2]), scenario.peers.B.schedule.map((s: { label: string }) => s.label).slice(0, remote.length - 1));
    assert.ok(Math.abs(Number(remote[1].split(',')[0]) - Math.max(scenario.peers.B.videoStartEpoch, scenario.capture.start)) < 0.002);

    // stored as the fixtures are: every packet cut to 54 bytes, its length on the wire kept
    assert.equal(scenario.capture.storedBytes, 54);
    const sizes = execFileSync('tshark', ['-r', trace, '-T', 'fields', '-e', 'frame.cap_len', '-e', 'frame.len'], { encoding: 'utf8' })
      .trim().split('\n').map((l) => l.split('\t').map(Number));
    assert.ok(sizes.every(([cap, len]) => cap === Math.min(54, len)), 'a packet not cut to 54 bytes');
    assert.ok(sizes.some(([, len]) => len > 500), 'wire lengths kept');
    const [call] = checkRecording(trace);
    assert.ok(call.packetsOut >= 300 && call.packetsIn >= 300, `call flow too thin: ${call.packetsOut} out / ${call.packetsIn} in`);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
