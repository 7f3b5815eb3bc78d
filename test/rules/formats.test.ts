import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { Pipeline } from '../../src/features/pipeline';
import type { FlowVerdict } from '../../src/features/types';
import { loadRules } from '../../src/rules/load';
import {
  payloadShape,
  SHAPE_IMO,
  SHAPE_LINE,
  SHAPE_MS_STUN,
  SHAPE_NONE,
  SHAPE_OPENVPN,
  SHAPE_QUIC,
  SHAPE_RTP,
  SHAPE_STUN,
  SHAPE_WA_STUN,
  SHAPE_WIREGUARD,
  SHAPE_ZOOM,
} from '../../src/rules/shapes';
import { mulberry32 } from '../../src/util/rng';
import { rtpPayload, stunPayload } from '../../src/testkit/synthetic';
import { tempDir } from '../../src/testkit/temp';
import { tcpPacket, udpPacket, writePcap, TCP_ACK, type TracePacket } from '../../src/testkit/trace-writer';
import { spymate } from '../../src/testkit/spymate-cli';
import { CollectSink, pkt } from '../features/packets';

/*
 * Each media format the call rules know (rules/*.rules say where each comes from), built here
 * byte by byte from its documented layout, run through the pipeline with the shipped rules.
 */

const rnd = mulberry32(14);
const random = (n: number): Buffer => Buffer.from(Array.from({ length: n }, () => Math.floor(rnd() * 256)));

/** Telegram reflector datagram: 16-byte peer tag, then 16-byte message key and AES blocks (or 12 × 0xFF and a control message). */
function telegram(tag: Buffer, i: number): Buffer {
  if (i % 25 === 0) return Buffer.concat([tag, Buffer.alloc(12, 0xff), Buffer.from([0xfe, 0xff, 0xff, 0xff]), random(8)]);
  return Buffer.concat([tag, random(16), random(16 * (2 + (i % 10)))]);
}

/** IMO frame: [0x00 towards relays] varint(length of the rest) type body. */
function imo(body: number, relay: boolean): Buffer {
  const rest = Buffer.concat([Buffer.from([0x0d, 0x00, 0x01]), random(body)]);
  const n = rest.length;
  const varint = n < 0x80 ? [n] : [0x80 | (n >> 7), n & 0x7f];
  return Buffer.concat([Buffer.from(relay ? [0, ...varint] : varint), rest]);
}

/** LINE media header: 5 type bits 0b11010, 11 bits of length of the rest, 16-bit sequence. */
function line(seq: number, body: number): Buffer {
  const b = Buffer.concat([Buffer.alloc(4), random(body)]);
  b.writeUInt16BE((0x1a << 11) | body, 0);
  b.writeUInt16BE(seq & 0xffff, 2);
  return b;
}

/** Viber relay datagram: 2-byte session, 16-bit little-endian type (3: media), body. */
function viber(session: number, type: number, body: number): Buffer {
  const b = Buffer.concat([Buffer.alloc(4), random(body)]);
  b.writeUInt16BE(session, 0);
  b.writeUInt16LE(type, 2);
  return b;
}

/** STUN with the magic cookie and a given message type (WhatsApp's relays answer with 0x0800-0x0805). */
function stunType(type: number, attrLen = 8): Buffer {
  const b = stunPayload(attrLen);
  b.writeUInt16BE(type, 0);
  return b;
}

/** RFC 3489 STUN (no magic cookie) binding request, as [MS-ICE2] sends it. */
function classicStun(): Buffer {
  const b = Buffer.concat([Buffer.alloc(20), Buffer.from([0x00, 0x06, 0x00, 0x04, 1, 2, 3, 4])]);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(8, 2);
  random(16).copy(b, 4);
  return b;
}

/** Zoom's media header without the server wrapper: type 16 (video), 24 bytes, then RTP. */
function zoomP2p(i: number): Buffer {
  const b = Buffer.concat([random(24), rtpPayload(98, i, i * 3000, 0x2a, 900)]);
  b[0] = i % 3 === 0 ? 15 : 16;
  if (b[0] === 15) return Buffer.concat([b.subarray(0, 1), random(18), rtpPayload(99, i, i * 960, 0x2b, 120)]);
  return b;
}

/** TURN ChannelData (RFC 8656 §12): channel, length, data padded to 4 over UDP. */
function channelData(channel: number, data: Buffer): Buffer {
  const pad = (4 - (data.length % 4)) % 4;
  const b = Buffer.concat([Buffer.alloc(4), data, Buffer.alloc(pad)]);
  b.writeUInt16BE(channel, 0);
  b.writeUInt16BE(data.length, 2);
  return b;
}

/** TURN Send (0x0016) or Data (0x0017) indication: XOR-PEER-ADDRESS, then DATA carrying `data` (RFC 8656 §10-11). */
function indication(type: number, data: Buffer, cookie = true): Buffer {
  const pad = (4 - (data.length % 4)) % 4;
  const attrs = Buffer.concat([
    Buffer.from([0x00, 0x12, 0x00, 0x08, 0x00, 0x01, 0x12, 0x34, 1, 2, 3, 4]),
    Buffer.from([0x00, 0x13, data.length >> 8, data.length & 0xff]),
    data,
    Buffer.alloc(pad),
  ]);
  const h = Buffer.alloc(20);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(attrs.length, 2);
  if (cookie) h.writeUInt32BE(0x2112a442, 4);
  random(12).copy(h, 8);
  return Buffer.concat([h, attrs]);
}

/** RFC 4571: a 16-bit length before each RTP packet on a TCP stream. */
function framed(rtp: Buffer): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(rtp.length, 0);
  return Buffer.concat([b, rtp]);
}

/** WireGuard transport data: type 4, receiver index, counter, ciphertext (16-aligned). */
function wireguard(i: number, len: number): Buffer {
  const b = random(16 + Math.ceil(len / 16) * 16);
  b.writeUInt32LE(4, 0);
  b.writeUInt32LE(0x1234, 4);
  b.writeUInt32LE(i, 8);
  return b;
}

interface Flow {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  pps: number;
  seconds: number;
  proto?: number;
  payload: (i: number) => Buffer;
}

function packets(f: Flow) {
  return Array.from({ length: f.pps * f.seconds }, (_, i) => {
    const back = i % 2 === 1;
    const payload = f.payload(i);
    return pkt({
      src: back ? f.dst : f.src,
      dst: back ? f.src : f.dst,
      sport: back ? f.dport : f.sport,
      dport: back ? f.sport : f.dport,
      ts: 1000 + i / f.pps,
      proto: f.proto,
      payload,
      len: (f.proto === 6 ? 40 : 28) + payload.length,
    });
  });
}

/** The calls the pipeline finds (app) and every flow's verdict, with the shipped rules and no classifier. */
function run(f: Flow): { calls: string[]; verdicts: FlowVerdict[]; packets: number[] } {
  const sink = new CollectSink();
  const verdicts: FlowVerdict[] = [];
  const p = new Pipeline(
    { windowMs: 500, rules: loadRules(), local: [], idleTimeoutS: 30, maxFlows: 100 },
    Object.assign(sink, { verdict: (v: FlowVerdict) => verdicts.push(v) }),
  );
  for (const x of packets(f)) p.onPacket(x);
  p.finish();
  const total = sink.windows.reduce((n, w) => n + w.packets, 0);
  return { calls: sink.starts.map((s) => s.app ?? ''), verdicts, packets: [total] };
}

const peers = { src: '192.168.1.20', dst: '203.0.113.50', sport: 40123, dport: 31234 };

test('payload shapes of the apps, each from its documented layout', () => {
  const shape = (b: Buffer, stream = false) => payloadShape(b, 0, b.length, b.length, stream);
  assert.equal(shape(stunType(0x0800)), SHAPE_WA_STUN, 'WhatsApp relay message type 0x0800');
  assert.equal(shape(stunType(0x0001)), SHAPE_STUN);
  assert.equal(shape(classicStun()), SHAPE_MS_STUN, 'RFC 3489 STUN without cookie (MS-TURN)');
  assert.equal(shape(imo(100, true)), SHAPE_IMO, 'IMO towards the relay: 00 varint type');
  assert.equal(shape(imo(300, false)), SHAPE_IMO, 'IMO peer to peer: two-byte varint');
  assert.equal(shape(Buffer.from('0902dc9a020000000000', 'hex')), SHAPE_IMO, "IMO's 10-byte probe");
  assert.equal(shape(line(7, 537)), SHAPE_LINE);
  const badLine = line(7, 537);
  badLine[1] ^= 1;
  assert.equal(shape(badLine), SHAPE_NONE, 'LINE length must agree with the datagram');
  assert.equal(shape(zoomP2p(1)), SHAPE_ZOOM, 'Zoom media header without the server wrapper');
  assert.equal(shape(channelData(0x4001, rtpPayload(111, 1, 2, 3, 100))), SHAPE_RTP, 'RTP in ChannelData');
  assert.equal(shape(indication(0x0017, rtpPayload(111, 1, 2, 3, 101))), SHAPE_RTP, 'RTP in a TURN Data indication');
  assert.equal(shape(indication(0x0115, rtpPayload(122, 1, 2, 3, 300), false)), SHAPE_RTP, 'in an MS-TURN Data indication');
  assert.equal(shape(indication(0x0016, Buffer.alloc(80, 0x17))), SHAPE_STUN, 'a Send indication of something else is STUN');
  assert.equal(shape(framed(rtpPayload(96, 1, 2, 3, 300)), true), SHAPE_RTP, 'RFC 4571 over TCP');
  assert.equal(shape(framed(rtpPayload(96, 1, 2, 3, 300))), SHAPE_NONE, 'the framing is read on TCP only');
  const twoFrames = Buffer.concat([channelData(0x4001, rtpPayload(96, 1, 2, 3, 99)), Buffer.alloc(40)]);
  assert.equal(shape(twoFrames, true), SHAPE_RTP, 'TURN over TCP: ChannelData followed by more of the stream');
  assert.equal(shape(wireguard(1, 200)), SHAPE_WIREGUARD);
  const initial = Buffer.concat([Buffer.from([0xc3, 0, 0, 0, 1]), random(1195)]);
  assert.equal(shape(initial), SHAPE_QUIC, 'QUIC v1 long header');
  const gquic = Buffer.concat([Buffer.from('09fadeb0e557e692a0513033330115', 'hex'), random(1335)]);
  assert.equal(shape(gquic), SHAPE_QUIC, 'Google QUIC Q033: public flags, connection ID, version');
  assert.equal(shape(Buffer.concat([Buffer.from([0x48, 0, 0, 7]), random(120)])), SHAPE_OPENVPN, 'OpenVPN data v2');
  const ntp = Buffer.alloc(48);
  ntp[0] = 0x23;
  assert.equal(shape(ntp), SHAPE_NONE, 'NTP is no OpenVPN');
  const ts = Buffer.alloc(1316);
  ts[0] = 0x47;
  assert.equal(shape(ts), SHAPE_NONE, "MPEG-TS's sync byte is no OpenVPN hard reset");
});

test('Telegram reflector flows are telegram; the same sizes with no shared tag are not', () => {
  const tag = random(16);
  const r = run({ ...peers, dport: 533, pps: 40, seconds: 4, payload: (i) => telegram(tag, i) });
  assert.deepEqual(r.calls, ['telegram']);
  assert.equal(r.packets[0], 160, 'every packet of the flow is in its windows');
  assert.match(r.verdicts[0].reason, /^rules\/72-telegram\.rules:\d+$/);
  const tail = (i: number) => Buffer.concat([tag.subarray(0, 12), random(4), telegram(tag, i).subarray(16)]);
  assert.deepEqual(run({ ...peers, pps: 40, seconds: 4, payload: tail }).calls, ['telegram'], 'a tag whose tail varies');
  assert.deepEqual(run({ ...peers, pps: 40, seconds: 4, payload: (i) => random(48 + 16 * (i % 10)) }).calls, []);
});

test('a flow with a call shape but too slow is no call: why, when it ends and when it goes idle', () => {
  const tag = random(16);
  const slow = run({ ...peers, pps: 5, seconds: 4, payload: (i) => telegram(tag, i) });
  assert.deepEqual(slow.calls, []);
  assert.match(slow.verdicts[0].reason, /^no rule matched \(\d+ payloads inspected: tagged \d+/);
  // the same flow going idle while the trace goes on: the rule it was still waiting on is named
  const sink = new CollectSink();
  const verdicts: FlowVerdict[] = [];
  const p = new Pipeline(
    { windowMs: 500, rules: loadRules(), local: [], idleTimeoutS: 30, maxFlows: 100 },
    Object.assign(sink, { verdict: (v: FlowVerdict) => verdicts.push(v) }),
  );
  for (const x of packets({ ...peers, pps: 5, seconds: 4, payload: (i) => telegram(tag, i) })) p.onPacket(x);
  for (let t = 1005; t < 1045; t++) p.onPacket(pkt({ src: '10.9.9.9', dst: '10.9.9.8', sport: 1, dport: 53, ts: t }));
  assert.match(verdicts[0].reason, /^still undecided when it went idle, waiting on rules\/72-telegram\.rules:\d+ \(telegram\)/);
});

test('IMO relay and peer-to-peer flows are imo', () => {
  assert.deepEqual(run({ ...peers, pps: 30, seconds: 4, payload: (i) => imo(60 + (i % 7) * 150, true) }).calls, ['imo']);
  const p2p = (i: number) => (i % 4 === 0 ? random(200) : imo(90 + (i % 5) * 40, false));
  assert.deepEqual(run({ ...peers, pps: 30, seconds: 4, payload: p2p }).calls, ['imo'], 'a quarter in another framing');
});

test('LINE media (its header between RTP packets) is line', () => {
  const payload = (i: number) => (i % 5 === 0 ? rtpPayload(101, i, i * 160, 0x09bda678, 30) : line(i, 100 + (i % 9) * 50));
  assert.deepEqual(run({ ...peers, pps: 40, seconds: 4, payload }).calls, ['line']);
});

test('Viber relay media is viber', () => {
  const payload = (i: number) => viber(0xedf6, i % 10 === 0 ? 0x0c : 3, 60 + (i % 8) * 20);
  assert.deepEqual(run({ ...peers, dport: 7985, pps: 30, seconds: 4, payload }).calls, ['viber']);
});

test("WhatsApp's relay (its STUN types, then SRTP) is whatsapp; peer to peer SRTP is webrtc", () => {
  const relay = (i: number) => (i < 4 ? stunType(i % 2 === 0 ? 0x0003 : 0x0800) : rtpPayload(120, i, i * 960, 0x77, 120));
  assert.deepEqual(run({ ...peers, dport: 3478, pps: 40, seconds: 4, payload: relay }).calls, ['whatsapp']);
  const p2p = (i: number) => (i < 2 ? stunPayload(8) : rtpPayload(120, i, i * 960, 0x77 + (i % 2), 120));
  assert.deepEqual(run({ ...peers, pps: 40, seconds: 4, payload: p2p }).calls, ['webrtc']);
});

test('Zoom peer to peer (no server wrapper, any port) is zoom', () => {
  assert.deepEqual(run({ ...peers, pps: 50, seconds: 4, payload: zoomP2p }).calls, ['zoom']);
});

test('Teams/Skype peer to peer: RFC 3489 STUN and SRTP with a range of SSRCs is teams; with standard ICE, webrtc', () => {
  const payload = (i: number) => (i % 16 === 0 ? classicStun() : rtpPayload(122, i, i * 3000, 0x1000 + (i % 20), 1000));
  assert.deepEqual(run({ ...peers, pps: 60, seconds: 4, payload }).calls, ['teams']);
  const ice = (i: number) => (i % 16 === 0 ? stunPayload(8) : rtpPayload(122, i, i * 3000, 0x1000 + (i % 20), 1000));
  assert.deepEqual(run({ ...peers, pps: 60, seconds: 4, payload: ice }).calls, ['webrtc']);
});

test('Signal (SRTP through TURN: ChannelData, or Send/Data indications) and KakaoTalk (plain RTP) are webrtc', () => {
  const turn = (i: number) => (i < 3 ? stunPayload(12) : channelData(0x4000, rtpPayload(111, i, i * 960, 0x55, 90 + (i % 3))));
  assert.deepEqual(run({ ...peers, dport: 3478, pps: 40, seconds: 4, payload: turn }).calls, ['webrtc']);
  const sendData = (i: number) => indication(i % 2 === 0 ? 0x0016 : 0x0017, rtpPayload(111, i, i * 960, 0x56, 80 + (i % 5)));
  assert.deepEqual(run({ ...peers, dport: 3478, pps: 40, seconds: 4, payload: sendData }).calls, ['webrtc'], 'Send/Data');
  const rtcp = Buffer.from('80c8000600000001' + '00'.repeat(20), 'hex');
  const kakao = (i: number) => (i % 20 === 0 ? rtcp : rtpPayload(0, i, i * 160, 0x3344, 172));
  assert.deepEqual(run({ ...peers, pps: 33, seconds: 4, payload: kakao }).calls, ['webrtc']);
});

test('RTP over TCP (RFC 4571) and TURN over TCP (ChannelData frames) are webrtc', () => {
  const rfc4571 = (i: number) => framed(rtpPayload(96, i, i * 3000, 0x66, 300 + (i % 4) * 100));
  const r = run({ ...peers, dport: 5004, proto: 6, pps: 40, seconds: 4, payload: rfc4571 });
  assert.deepEqual(r.calls, ['webrtc']);
  const turnTcp = (i: number) => channelData(0x4001, rtpPayload(96, i, i * 3000, 0x66, 400 + (i % 3)));
  assert.deepEqual(run({ ...peers, dport: 3478, proto: 6, pps: 40, seconds: 4, payload: turnTcp }).calls, ['webrtc']);
});

test('a WireGuard tunnel carrying a call is not a call of its own, and says so', () => {
  const r = run({ ...peers, dport: 51820, pps: 80, seconds: 4, payload: (i) => wireguard(i, 100 + (i % 4) * 300) });
  assert.deepEqual(r.calls, []);
  assert.equal(r.verdicts.length, 1);
  assert.match(r.verdicts[0].reason, /rules\/05-not-calls\.rules:\d+: wireguard, never a call of its own/);
});

/** A pcap of several formats at once, read by `spymate extract --explain` as a user would. */
function mixedTrace(): TracePacket[] {
  const out: TracePacket[] = [];
  const tag = random(16);
  const add = (src: string, dst: string, sport: number, dport: number, payload: (i: number) => Buffer, tcp = false) => {
    for (let i = 0; i < 120; i++) {
      const back = i % 2 === 1;
      const o = {
        src: back ? dst : src,
        dst: back ? src : dst,
        sport: back ? dport : sport,
        dport: back ? sport : dport,
        ts: 1_700_000_000 + i / 30 + sport / 1e6,
        payload: payload(i),
      };
      out.push(tcp ? tcpPacket({ ...o, flags: TCP_ACK, seq: i * 1000 }) : udpPacket(o));
    }
  };
  add('10.0.0.1', '91.108.8.1', 28150, 533, (i) => telegram(tag, i));
  add('10.0.0.1', '185.155.137.30', 49207, 36535, (i) => imo(60 + (i % 7) * 150, true));
  add('10.0.0.1', '198.51.100.7', 40000, 40002, zoomP2p);
  add('10.0.0.1', '198.51.100.8', 40001, 5004, (i) => framed(rtpPayload(96, i, i * 3000, 0x66, 300)), true);
  add('10.0.0.1', '198.51.100.9', 40003, 51820, (i) => wireguard(i, 200));
  add('10.0.0.1', '198.51.100.10', 40004, 53, () => random(40));
  return out.sort((a, b) => a.ts - b.ts);
}

test('extract --explain lists every flow with its verdict and reason, from a pcap', () => {
  const file = path.join(tempDir('formats'), 'mixed.pcap');
  writePcap(file, mixedTrace());
  const r = spymate(['extract', '--explain', '--no-call-model', file, '-q'], path.dirname(file));
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0], /^VERDICT\s+APP\s+CERT\s+FLOW\s+PKTS\s+SECS\s+REASON$/);
  const row = (port: number) => lines.find((l) => l.includes(`:${port} `)) ?? '';
  assert.match(row(533), /^call\s+telegram\s+100%\s+UDP .*rules\/72-telegram\.rules:\d+$/);
  assert.match(row(36535), /^call\s+imo\s+100%.*rules\/73-imo\.rules:\d+$/);
  assert.match(row(40002), /^call\s+zoom\s+100%.*rules\/10-zoom\.rules:\d+$/);
  assert.match(row(5004), /^call\s+webrtc\s+100%\s+TCP .*rules\/90-webrtc\.rules:\d+$/);
  assert.match(row(51820), /^no\s+-\s+-.*wireguard, never a call of its own$/);
  assert.match(row(53), /^no\s+-\s+-.*not inspected: no rule naming a call can match/);
  assert.equal(lines.length, 7, 'a header and one line per flow');
  const json = spymate(['extract', '--explain', '--no-call-model', '--format', 'ndjson', file, '-q'], path.dirname(file));
  const objs = json.stdout
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { verdict: string; app: string | null; reason: string; callCertainty: number | null });
  assert.deepEqual(objs.filter((o) => o.verdict === 'call').map((o) => o.app).sort(), ['imo', 'telegram', 'webrtc', 'zoom']);
  assert.ok(objs.every((o) => o.reason.length > 0 && (o.verdict === 'call') === (o.callCertainty === 1)));
});
