import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/rules/paths';
import { flowKey, ndpiApp, ndpiCallMedia } from '../../src/model/call-train';
import { spymate } from '../../src/testkit/spymate-cli';

/*
 * Real calls made by other people: nDPI's test captures with nDPI's own per-flow verdicts, read
 * from ../shared/realcalls/ndpi beside the project (REALCALLS_DIR overrides). They are not ours
 * to ship: a clone without them skips this test. The measure is the project's targets: call media
 * flows found (recall ≥ 0.95), their packet counts exact (≥ 95 %), other flows taken for calls ≤ 1 %.
 */
const DIR = process.env.REALCALLS_DIR ?? path.join(projectRoot(), '..', 'shared', 'realcalls', 'ndpi');

const LINE =
  /^\s*\d+\s+(UDP|TCP)\s+(\S+):(\d+)\s+<?->\s+(\S+):(\d+)\s+.*?\[proto: ([^\]]+)\].*?\[(\d+) pkts\/\d+ bytes (?:<->|->) (\d+) pkts\/[^\]]*\](?:.*?\[([\d.]+) sec\])?/;

/** nDPI's verdicts: call media flows (with their packet counts) and other flows, by flow key. */
function truth(out: string): { calls: Map<string, number>; others: Set<string> } {
  const calls = new Map<string, number>();
  const others = new Set<string>();
  for (const l of fs.readFileSync(out, 'utf8').split('\n')) {
    const m = LINE.exec(l);
    if (!m || (l.includes('[VLAN') && m[6].includes('GTP'))) continue;
    const [, proto, a, ap, b, bp, app, n1, n2, sec] = m;
    const n = Number(n1) + Number(n2);
    const s = Number(sec ?? 0);
    const key = flowKey(proto, a, Number(ap), b, Number(bp));
    if (ndpiCallMedia(proto, ndpiApp(app))) {
      if (n >= 20 && s >= 2 && n / s >= 10) calls.set(key, n);
    } else if (!['DTLS', 'STUN', 'RTCP'].includes(app.split('/').pop()!) && n >= (proto === 'UDP' ? 2 : 20)) {
      others.add(key);
    }
  }
  return { calls, others };
}

test('real calls of other people (nDPI test captures): found, counted exactly, and nothing else taken for one', (t) => {
  if (!fs.existsSync(DIR)) {
    t.skip(`no ${DIR}: nDPI's captures are not part of the project (set REALCALLS_DIR to run this)`);
    return;
  }
  const traces = fs.readdirSync(DIR).filter((f) => /\.pcap(ng)?$/.test(f) && fs.existsSync(path.join(DIR, `${f}.out`)));
  assert.ok(traces.length > 0, `${DIR} holds no capture with its .out verdicts`);
  let calls = 0;
  let found = 0;
  let exact = 0;
  let others = 0;
  const falseCalls: string[] = [];
  const missed: string[] = [];
  for (const trace of traces) {
    const want = truth(path.join(DIR, `${trace}.out`));
    const r = spymate(['extract', path.join(DIR, trace), '--format', 'ndjson', '-o', '-', '-q'], DIR);
    assert.equal(r.code, 0, `${trace}: ${r.stderr}`);
    const seen = new Map<string, number>();
    for (const l of r.stdout.split('\n').filter((x) => x !== '')) {
      const w = JSON.parse(l) as { protocol: string; srcIP: string; srcPort: number; desIP: string; desPort: number; packets: number };
      const k = flowKey(w.protocol, w.srcIP, w.srcPort, w.desIP, w.desPort);
      seen.set(k, (seen.get(k) ?? 0) + w.packets);
    }
    for (const [k, n] of want.calls) {
      calls++;
      if (!seen.has(k)) missed.push(`${trace} ${k}`);
      else {
        found++;
        if (seen.get(k) === n) exact++;
      }
    }
    others += want.others.size;
    for (const k of want.others) if (seen.has(k)) falseCalls.push(`${trace} ${k}`);
  }
  t.diagnostic(`found ${found}/${calls}, exact ${exact}/${found}, other flows taken for calls ${falseCalls.length}/${others}`);
  assert.ok(found >= 0.95 * calls, `missed: ${missed.join('; ')}`);
  assert.ok(exact >= 0.95 * found, `packet counts exact for ${exact} of ${found}`);
  assert.ok(falseCalls.length <= 0.01 * others, `taken for calls: ${falseCalls.join('; ')}`);
});
