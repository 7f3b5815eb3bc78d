import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Pipeline } from '../../src/features/pipeline';
import { decodePacket, newDecodedPacket, newRawPacket } from '../../src/capture/decode';
import { openTrace } from '../../src/capture/reader';
import { FLOW_FEATURE_NAMES } from '../../src/features/flow-summary';
import type { FlowVerdict } from '../../src/features/types';
import { callClassifier, loadCallModel, parseCallModel, DEFAULT_CALL_MODEL_PATH } from '../../src/model/call-model';
import { blinded, flowKey, readFlowLabels } from '../../src/model/call-train';
import { loadRules } from '../../src/rules/load';
import { UserError } from '../../src/util/errors';
import { writeCallNegatives, writeOpaqueCalls } from '../../src/lab/call-traffic';
import { tempDir } from '../../src/testkit/temp';
import { spymate } from '../../src/testkit/spymate-cli';
import { CollectSink } from '../features/packets';

const shipped = loadCallModel();

/** Runs a trace through the pipeline with the shipped rules and call model. */
async function run(file: string): Promise<{ sink: CollectSink; verdicts: FlowVerdict[] }> {
  const sink = new CollectSink();
  const verdicts: FlowVerdict[] = [];
  const p = new Pipeline(
    { windowMs: 500, rules: loadRules(), local: [], idleTimeoutS: 30, maxFlows: 1000, calls: callClassifier(shipped) },
    Object.assign(sink, { verdict: (v: FlowVerdict) => verdicts.push(v) }),
  );
  const src = await openTrace(file);
  const raw = newRawPacket();
  const dp = newDecodedPacket();
  do while (src.next(raw)) if (decodePacket(raw, dp)) p.onPacket(dp);
  while (await src.more());
  src.close();
  p.finish();
  return { sink, verdicts };
}

test('the shipped call model loads, says what it was trained on and how it scored leave-one-capture-out', () => {
  assert.deepEqual(shipped.features, [...FLOW_FEATURE_NAMES]);
  assert.ok(shipped.training.flows >= 40 && shipped.training.calls >= 20, 'trained on calls and on other flows');
  assert.ok(shipped.training.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256)));
  const cv = shipped.cv!;
  assert.ok(cv !== null, 'cross-validated');
  assert.ok(cv.recall >= 0.9, `recall ${cv.recall}`);
  assert.ok(cv.falsePositiveRate <= 0.1, `false positives ${cv.falsePositiveRate}`);
  assert.ok(cv.blindRecall >= 0.9, `calls with blinded headers ${cv.blindRecall}`);
});

test('calls in a format no rule knows are found by the classifier, with a certainty below 100 % and the reason', async () => {
  // other seeds than the shipped model was trained on
  const files = writeOpaqueCalls(tempDir('opaque'), 6, 99);
  let found = 0;
  for (const f of files) {
    const { sink, verdicts } = await run(f);
    if (sink.starts.length === 0) continue;
    found++;
    const s = sink.starts[0];
    assert.equal(s.app, 'call', 'no shape to name an app by');
    assert.ok(s.certainty >= shipped.threshold && s.certainty < 1);
    assert.match(s.reason, /^classifier: P\(call\) 0\.\d\d; \w+ /);
    assert.ok(sink.windows.every((w) => w.callCertainty === s.certainty));
    assert.equal(verdicts.filter((v) => v.call).length, 1);
  }
  assert.ok(found >= 5, `${found} of 6 found`);
});

test('traffic that is not a call stays out: games, uTP, QUIC off 443, telemetry, IPTV, tunnels', async () => {
  const files = writeCallNegatives(tempDir('negatives'), 2, 99);
  const called: string[] = [];
  for (const f of files) if ((await run(f)).sink.starts.length > 0) called.push(path.basename(f));
  assert.ok(called.length <= 1, `called a call: ${called.join(', ')}`);
  const wg = await run(files.find((f) => f.includes('tunnel-0'))!);
  assert.match(wg.verdicts[0].reason, /05-not-calls\.rules:\d+: wireguard, never a call of its own/);
});

test('a damaged or foreign call model is refused in one line naming the file', () => {
  const dir = tempDir('call-model');
  const good = fs.readFileSync(DEFAULT_CALL_MODEL_PATH, 'utf8');
  const bad = (name: string, text: string, why: RegExp) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    assert.throws(
      () => loadCallModel(file),
      (e: unknown) => e instanceof UserError && e.message.startsWith(`${file}: `) && why.test(e.message),
    );
  };
  bad('text.json', 'hello', /not JSON/);
  bad('other.json', '{"format":"spymate-model","version":1}', /not a spymate call model/);
  bad('v9.json', good.replace('"version":1', '"version":9'), /format 9/);
  const m = JSON.parse(good);
  m.forest.trees[0].left[0] = 0;
  bad(
    'loop.json',
    JSON.stringify(m),
    /damaged spymate call model \(tree 0 node 0: left child 0 is reached twice \(a loop: prediction would never end\)\)/,
  );
  const f = JSON.parse(good);
  f.features = f.features.slice(1);
  bad('features.json', JSON.stringify(f), /damaged spymate call model \(features/);
  assert.doesNotThrow(() => parseCallModel('ok', good));
});

test('flow labels: nDPI verdict lines and the CSV form', () => {
  const dir = tempDir('labels');
  const ndpi = path.join(dir, 'x.pcap.out');
  fs.writeFileSync(
    ndpi,
    [
      '\t1\tUDP 10.0.0.1:5000 <-> 203.0.113.9:3478 [proto: 78.45/STUN.WhatsAppCall][cat: VoIP/10][500 pkts/1 bytes <-> 1 pkts/1 bytes]',
      '\t2\tUDP 10.0.0.1:5001 <-> 203.0.113.9:443 [proto: 188.126/QUIC.Google][2 pkts/1 bytes <-> 1 pkts/1 bytes]',
      '\t3\tUDP 10.0.0.1:5002 <-> 203.0.113.9:9 [proto: 0/Unknown][2 pkts/1 bytes <-> 1 pkts/1 bytes]',
      '\t4\tUDP [2001:db8::1]:5003 <-> [2001:db8::2]:7985 [proto: 144/Viber][2 pkts/1 bytes <-> 1 pkts/1 bytes]',
    ].join('\n'),
  );
  const l = readFlowLabels(ndpi);
  assert.equal(l.get(flowKey('UDP', '203.0.113.9', 3478, '10.0.0.1', 5000)), 1, 'either direction');
  assert.equal(l.get(flowKey('UDP', '10.0.0.1', 5001, '203.0.113.9', 443)), 0);
  assert.equal(l.has(flowKey('UDP', '10.0.0.1', 5002, '203.0.113.9', 9)), false, 'unknown: no truth');
  assert.equal(l.get(flowKey('UDP', '2001:db8::1', 5003, '2001:db8::2', 7985)), 1);
  const csv = path.join(dir, 'x.csv');
  fs.writeFileSync(
    csv,
    'protocol,srcIP,srcPort,desIP,desPort,label\nUDP,10.0.0.1,1,10.0.0.2,2,call\nUDP,10.0.0.1,3,10.0.0.2,4,other\n',
  );
  assert.deepEqual([...readFlowLabels(csv).values()], [1, 0]);
  fs.writeFileSync(csv, 'UDP,10.0.0.1,1,10.0.0.2\n');
  assert.throws(() => readFlowLabels(csv), /x\.csv:1: expected protocol,srcIP,srcPort,desIP,desPort,label/);
});

test('blinding a call leaves its sizes and timing and hides its headers', () => {
  const x = Float64Array.from(FLOW_FEATURE_NAMES, (_, i) => i / 10);
  const y = blinded(x);
  const at = (n: string) => FLOW_FEATURE_NAMES.indexOf(n as (typeof FLOW_FEATURE_NAMES)[number]);
  assert.equal(y[at('pps')], x[at('pps')]);
  assert.equal(y[at('iat_cv_min')], x[at('iat_cv_min')]);
  assert.equal(y[at('shape_rtp')], 0);
  assert.equal(y[at('first_bytes')], 0.9);
});

test('spymate train-calls trains a model extract can use; a missing --flows is a usage error', () => {
  const dir = tempDir('train-calls');
  const pos = writeOpaqueCalls(dir, 3, 5);
  const neg = writeCallNegatives(dir, 1, 5);
  const out = path.join(dir, 'm.json');
  const args = ['train-calls', '--trees', '5', '-q', '-o', out];
  for (const f of pos) args.push(f, '--flows', 'all');
  for (const f of neg) args.push(f, '--flows', 'none');
  const r = spymate(args, dir);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  const m = loadCallModel(out);
  assert.equal(m.forest.trees.length, 5);
  assert.equal(m.cv, null, 'no --cv: no scores');
  assert.equal(m.training.inputs.length, pos.length + neg.length);
  const e = spymate(['extract', '--explain', '--call-model', out, pos[0], '-q'], dir);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /classifier: P\(call\)/);
  const u = spymate(['train-calls', pos[0], '-o', out], dir);
  assert.equal(u.code, 2);
  assert.match(u.stderr, /--flows gives 0 source\(s\) for 1 trace\(s\)/);
});
