import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadRules, parseRules } from '../../src/rules/load';
import { RuleSet } from '../../src/rules/ruleset';
import type { Rule } from '../../src/rules/types';
import { ShapeCounts } from '../../src/rules/inspect';
import { payloadShape, SHAPE_DTLS, SHAPE_NONE, SHAPE_RTCP, SHAPE_RTP, SHAPE_STUN, SHAPE_ZOOM } from '../../src/rules/shapes';
import { Pipeline } from '../../src/features/pipeline';
import { UserError } from '../../src/util/errors';
import { CollectSink, pkt } from '../features/packets';
import { dtlsPayload, rtcpPayload, rtpPayload, stunPayload } from '../../src/testkit/synthetic';

const shape = (b: Buffer, len = b.length) => payloadShape(b, 0, b.length, len);
const appOf = (r: Rule | null | undefined) => (r === undefined || r === null ? r : r.app);

test('payload shapes: STUN, DTLS, RTP, RTCP, Zoom, and what is none of them', () => {
  assert.equal(shape(stunPayload(8)), SHAPE_STUN);
  assert.equal(shape(stunPayload(8), 40), SHAPE_NONE, 'STUN length must agree with the datagram');
  assert.equal(shape(dtlsPayload(22)), SHAPE_DTLS);
  assert.equal(shape(dtlsPayload(23)), SHAPE_DTLS);
  const dtls10 = dtlsPayload(22);
  dtls10[2] = 0xff;
  assert.equal(shape(dtls10), SHAPE_DTLS, 'DTLS 1.0 version 0xFEFF');
  assert.equal(shape(dtlsPayload(24)), SHAPE_NONE, 'content type 24 is not DTLS 1.2');
  assert.equal(shape(rtpPayload(96, 1, 2, 3, 200)), SHAPE_RTP);
  assert.equal(shape(rtpPayload(0x80 | 111, 1, 2, 3, 200)), SHAPE_RTP, 'marker bit set');
  assert.equal(shape(rtpPayload(72, 1, 2, 3, 200)), SHAPE_NONE, 'payload type 72 is reserved (RTCP clash)');
  assert.equal(shape(rtcpPayload()), SHAPE_RTCP);
  const zoom = Buffer.alloc(60);
  zoom[0] = 0x05;
  zoom[8] = 16;
  assert.equal(shape(zoom), SHAPE_ZOOM);
  const quic = Buffer.from('4c9a1f2e3d4c5b6a7980', 'hex');
  assert.equal(shape(quic), SHAPE_NONE, 'a QUIC short header');
  const dns = Buffer.from('12340100000100000000000003777777', 'hex');
  assert.equal(shape(dns), SHAPE_NONE);
  const ntp = Buffer.alloc(48);
  ntp[0] = 0x23;
  assert.equal(shape(ntp), SHAPE_NONE);
  const turn = Buffer.concat([Buffer.from([0x40, 0x01, 0, 100]), rtpPayload(96, 1, 2, 3, 100)]);
  assert.equal(shape(turn), SHAPE_RTP, 'RTP inside TURN ChannelData');
});

test('the shipped rules load and cover every app the product names', () => {
  const rs = loadRules();
  const apps = new Set(rs.rules.map((r) => r.app));
  for (const app of ['zoom', 'teams', 'meet', 'webex', 'discord', 'facetime', 'whatsapp', 'telegram', 'imo', 'line', 'viber', 'webrtc']) assert.ok(apps.has(app), app);
  assert.equal(rs.rules[rs.rules.length - 1].app, 'webrtc', 'the generic rule comes last');
  assert.deepEqual(rs.rules.filter((r) => r.exclude).map((r) => r.app), ['quic', 'wireguard', 'openvpn', 'ipsec'], 'exclusions first');
  assert.ok(rs.rules.slice(0, 4).every((r) => r.exclude));
  assert.ok(rs.sources.every((s) => s.endsWith('.rules')));
});

test('a good rules file parses: comments, ranges, negation, sides, shapes and rates', () => {
  const rules = parseRules(
    '# a comment\n\nzoom: udp rport=8801-8810,9000 shape=zoom rate>=10pps/2s  # trailing\nx: tcp !lnet=10.0.0.0/8,2001:db8::/32 rate>=5/1.5\n',
    'f.rules',
  );
  assert.equal(rules.length, 2);
  assert.equal(rules[0].line, 3);
  assert.deepEqual(rules[0].conditions[1], { kind: 'port', side: 'remote', negate: false, ranges: [8801, 8810, 9000, 9000] });
  assert.deepEqual(rules[0].conditions[3], { kind: 'rate', pps: 10, seconds: 2 });
  const net = rules[1].conditions[1];
  assert.ok(net.kind === 'net' && net.negate && net.side === 'local' && net.nets.cidrs.length === 2);
});

test('each kind of bad line fails with FILE:LINE and the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['udp port=1', /expected 'APP: CONDITION/],
    ['9app: udp', /app name '9app'/],
    ['x:', /no conditions/],
    ['x: udp bogus', /unknown condition 'bogus'/],
    ['x: udp port=70000', /within 0-65535/],
    ['x: udp port=9-3', /low end first/],
    ['x: udp port=a', /'a' is not a port/],
    ['x: udp port=', /needs a value/],
    ['x: udp net=10.0.0.0/33', /prefix length/],
    ['x: udp net=10.0.0', /not an address/],
    ['x: udp shape=sip', /unknown shape 'sip'/],
    ['x: udp rate>=fast', /not a rate/],
    ['x: udp rate>=0pps/2s', /not a rate/],
    ['x: udp tcp', /one protocol per rule/],
  ];
  for (const [line, why] of cases) {
    assert.throws(
      () => parseRules(`# ok\nok: udp\n${line}\n`, 'my.rules'),
      (e: unknown) => e instanceof UserError && e.message.startsWith('my.rules:3: ') && why.test(e.message),
      line,
    );
  }
});

test('loadRules: a file, a directory of *.rules in name order, and clear errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-rules-'));
  try {
    fs.writeFileSync(path.join(dir, '20-b.rules'), 'b: udp\n');
    fs.writeFileSync(path.join(dir, '10-a.rules'), 'a: tcp\n');
    fs.writeFileSync(path.join(dir, 'model.json'), '{}');
    assert.deepEqual(loadRules(dir).rules.map((r) => r.app), ['a', 'b']);
    assert.deepEqual(loadRules(path.join(dir, '20-b.rules')).rules.map((r) => r.app), ['b']);
    fs.writeFileSync(path.join(dir, '30-bad.rules'), '\n\nc: udp port=x\n');
    assert.throws(() => loadRules(dir), { message: `${path.join(dir, '30-bad.rules')}:3: 'x' is not a port or a port range like 3478-3481` });
    assert.throws(() => loadRules(path.join(dir, 'nope')), /no such rules file or directory/);
    fs.writeFileSync(path.join(dir, 'empty.txt'), '# nothing\n');
    assert.throws(() => loadRules(path.join(dir, 'empty.txt')), /holds no rules/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('first matching rule names the app; an earlier undecided rule makes the flow wait', () => {
  const rs = new RuleSet(parseRules('slow: udp port=5000 rate>=1000pps/1s\nfast: udp port=5000\n', 't'), ['t']);
  const key = { proto: 17, version: 4 as const, srcAddr: Uint32Array.of(1, 0, 0, 0), desAddr: Uint32Array.of(2, 0, 0, 0), srcPort: 5000, desPort: 9 };
  const shapes = new ShapeCounts();
  assert.equal(appOf(rs.decide(key, shapes, () => NaN)), undefined, 'slow is still undecided');
  assert.equal(appOf(rs.decide(key, shapes, () => 10)), 'fast', 'slow said no');
  assert.equal(appOf(rs.decide(key, shapes, () => 2000)), 'slow');
  assert.equal(appOf(rs.decide({ ...key, srcPort: 1 }, shapes, () => 10)), null);
  assert.equal(rs.candidate({ ...key, srcPort: 1 }), false);
});

/** Runs packets through a pipeline with the shipped rules; returns the apps of the calls found. */
function calls(packets: ReturnType<typeof pkt>[]): string[] {
  const sink = new CollectSink();
  const p = new Pipeline({ windowMs: 500, rules: loadRules(), local: [], idleTimeoutS: 30, maxFlows: 1000 }, sink);
  for (const x of packets.sort((a, b) => a.ts - b.ts)) p.onPacket(x);
  p.finish();
  return sink.starts.map((s) => `${s.app}:${s.desPort}`);
}

function stream(o: { src: string; dst: string; sport: number; dport: number; from: number; seconds: number; pps: number; proto?: number; payload: (i: number) => Buffer; back?: boolean }) {
  const out: ReturnType<typeof pkt>[] = [];
  for (let i = 0; i < o.seconds * o.pps; i++) {
    const ts = o.from + i / o.pps;
    const rev = o.back && i % 2 === 1;
    const payload = o.payload(i);
    out.push(pkt({
      src: rev ? o.dst : o.src, dst: rev ? o.src : o.dst, sport: rev ? o.dport : o.sport, dport: rev ? o.sport : o.dport,
      ts, proto: o.proto, payload, len: 28 + payload.length,
    }));
  }
  return out;
}

test('a WebRTC call between private peers on ephemeral ports is webrtc; a Zoom flow to 8801 is zoom', () => {
  const webrtc = [
    pkt({ src: '10.0.0.1', dst: '10.0.0.2', sport: 51234, dport: 49876, ts: 99.9, payload: stunPayload(8) }),
    pkt({ src: '10.0.0.2', dst: '10.0.0.1', sport: 49876, dport: 51234, ts: 99.91, payload: stunPayload(8) }),
    pkt({ src: '10.0.0.1', dst: '10.0.0.2', sport: 51234, dport: 49876, ts: 99.95, payload: dtlsPayload(22) }),
    ...stream({ src: '10.0.0.1', dst: '10.0.0.2', sport: 51234, dport: 49876, from: 100, seconds: 4, pps: 80, back: true, payload: (i) => rtpPayload(96, i, i * 90, 0x1000 + (i % 2), 900) }),
  ];
  assert.deepEqual(calls(webrtc), ['webrtc:49876']);
  const zoomPayload = () => {
    const b = Buffer.alloc(1000);
    b[0] = 5;
    b[8] = 16;
    return b;
  };
  assert.deepEqual(calls(stream({ src: '192.168.1.15', dst: '149.137.11.203', sport: 60235, dport: 8801, from: 0, seconds: 4, pps: 60, back: true, payload: zoomPayload })), ['zoom:8801']);
});

test('DNS, NTP, QUIC to 443, an HTTP download and random UDP are not calls', () => {
  const rnd = (seed: number) => (i: number) => {
    const b = Buffer.alloc(300);
    let x = seed + i * 7919;
    for (let j = 0; j < b.length; j++) b[j] = (x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24;
    return b;
  };
  const ntp = () => {
    const b = Buffer.alloc(48);
    b[0] = 0x23;
    return b;
  };
  const traffic = [
    ...stream({ src: '192.168.1.15', dst: '192.168.1.1', sport: 40000, dport: 53, from: 0, seconds: 5, pps: 40, back: true, payload: rnd(1) }),
    ...stream({ src: '192.168.1.15', dst: '162.159.200.1', sport: 123, dport: 123, from: 0, seconds: 5, pps: 30, back: true, payload: ntp }),
    ...stream({ src: '192.168.1.15', dst: '142.250.1.14', sport: 50000, dport: 443, from: 0, seconds: 5, pps: 300, back: true, payload: rnd(2) }),
    ...stream({ src: '192.168.1.15', dst: '93.184.216.34', sport: 45000, dport: 80, from: 0, seconds: 5, pps: 300, back: true, proto: 6, payload: rnd(3) }),
    ...stream({ src: '192.168.1.15', dst: '203.0.113.9', sport: 30000, dport: 30001, from: 0, seconds: 5, pps: 200, back: true, payload: rnd(4) }),
  ];
  assert.deepEqual(calls(traffic), []);
});

test('shape=stun+dtls needs both; each is decided after at most 64 inspected packets', () => {
  const rs = new RuleSet(parseRules('setup: udp shape=stun+dtls\n', 't'), ['t']);
  const key = { proto: 17, version: 4 as const, srcAddr: Uint32Array.of(1, 0, 0, 0), desAddr: Uint32Array.of(2, 0, 0, 0), srcPort: 1, desPort: 2 };
  const s = new ShapeCounts();
  const add = (b: Buffer) => s.add(b, 0, b.length, b.length);
  add(stunPayload(4));
  assert.equal(appOf(rs.decide(key, s, () => NaN)), undefined, 'no DTLS yet, but it may come');
  add(dtlsPayload(22));
  assert.equal(appOf(rs.decide(key, s, () => NaN)), 'setup');
  const other = new ShapeCounts();
  for (let i = 0; i < 64; i++) other.add(stunPayload(4), 0, 24, 24);
  assert.equal(appOf(rs.decide(key, other, () => NaN)), null, '64 packets and never DTLS: no');
});

test('each shipped app rule names a media flow to that service', () => {
  const media = (i: number) => rtpPayload(96, i, i * 90, 0x77, 900);
  const cases: Array<[string, string, number]> = [
    ['zoom', '206.247.10.10', 8802],
    ['teams', '52.113.1.1', 3478],
    ['meet', '74.125.250.10', 19305],
    ['webex', '170.72.1.1', 9000],
    ['discord', '66.22.200.1', 50005],
    ['facetime', '17.1.2.3', 16393],
    ['whatsapp', '157.240.1.1', 3478],
    ['webrtc', '198.51.100.7', 3478],
  ];
  for (const [app, remote, port] of cases) {
    const found = calls(stream({ src: '192.168.1.15', dst: remote, sport: 50123, dport: port, from: 0, seconds: 4, pps: 60, back: true, payload: media }));
    assert.deepEqual(found, [`${app}:${port}`], `${remote}:${port}`);
  }
});
