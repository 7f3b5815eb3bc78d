import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, type PipelineOptions } from '../../src/features/pipeline';
import { FEATURE_NAMES, SPY_YOUR_MATE_FEATURES } from '../../src/features/names';
import { parseRules } from '../../src/rules/load';
import { RuleSet } from '../../src/rules/ruleset';
import { parseCidr } from '../../src/flow/local';
import { CollectSink, pkt } from './packets';
import { mulberry32 } from '../../src/util/rng';

function rules(text: string): RuleSet {
  return new RuleSet(parseRules(text, 'test.rules'), ['test.rules']);
}

function opts(o: Partial<PipelineOptions> = {}): PipelineOptions {
  return {
    windowMs: 500,
    rules: rules('call: udp port=6000\ntcpcall: tcp port=7000'),
    local: [],
    idleTimeoutS: 30,
    maxFlows: 1000,
    ...o,
  };
}

function feature(f: Float64Array, name: string): number {
  const i = FEATURE_NAMES.indexOf(name);
  assert.ok(i >= 0, `no feature ${name}`);
  return f[i];
}

const L = '10.0.0.1';
const R = '8.8.8.8';
const out = (ts: number, len: number) => pkt({ src: L, dst: R, sport: 5000, dport: 6000, ts, len });
const inb = (ts: number, len: number) => pkt({ src: R, dst: L, sport: 6000, dport: 5000, ts, len });

test('every feature of a window matches the hand-computed value', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts(), sink);
  p.onPacket(out(1000.1, 100));
  p.onPacket(out(1000.102, 1200));
  p.onPacket(inb(1000.15, 1000));
  p.onPacket(out(1000.2, 300));
  p.finish();
  assert.equal(sink.windows.length, 1);
  const w = sink.windows[0];
  assert.equal(w.features.length, FEATURE_NAMES.length);
  assert.equal(w.start, 1000);
  assert.equal(w.end, 1000.5);
  assert.equal(w.packets, 4);
  assert.equal(w.bytes, 2600 + 4 * 14, 'record bytes are wire bytes');
  const f = w.features;
  const expected: Record<string, number> = {
    // out: sizes 100, 1200, 300 at .100 .102 .200
    out_packets: 3,
    out_bytes: 1600,
    out_bitrate: 25600,
    out_avg_size: 533.333,
    out_std_size: 478.423,
    out_min_size: 100,
    out_max_size: 1200,
    out_avg_interval: 0.05,
    out_std_interval: 0.048,
    out_large_packets: 1,
    out_small_packets: 1,
    // bursts leave out packets of <= 200 bytes: [1200] at .102, [300] at .200 (98 ms later)
    out_bursts: 2,
    out_avg_burst_bytes: 750,
    out_std_burst_bytes: 450,
    out_max_burst_bytes: 1200,
    out_burst_cv: 0.6,
    // two bursts are too few for a rhythm
    out_burst_alternation: 0,
    // in: one packet of 1000: no interval, so the window length
    in_packets: 1,
    in_bytes: 1000,
    in_bitrate: 16000,
    in_avg_size: 1000,
    in_std_size: 0,
    in_min_size: 1000,
    in_max_size: 1000,
    in_avg_interval: 0.5,
    in_std_interval: 0,
    in_large_packets: 1,
    in_small_packets: 0,
    in_bursts: 1,
    in_avg_burst_bytes: 1000,
    in_std_burst_bytes: 0,
    in_max_burst_bytes: 1000,
    in_burst_cv: 0,
    in_burst_alternation: 0,
    // all: 100 1200 1000 300 at .100 .102 .150 .200
    all_packets: 4,
    all_bytes: 2600,
    all_bitrate: 41600,
    all_avg_size: 650,
    all_std_size: 460.977,
    all_min_size: 100,
    all_max_size: 1200,
    all_avg_interval: 0.033333,
    all_std_interval: 0.022171,
    all_large_packets: 2,
    all_small_packets: 1,
    // [1200] .102, [1000] .150, [300] .200: 48 and 50 ms apart, so three bursts
    all_bursts: 3,
    all_avg_burst_bytes: 833.333,
    all_std_burst_bytes: 385.861,
    all_max_burst_bytes: 1200,
    all_burst_cv: 0.463,
    // steps -200, -700: (200² + 700²) / 2 over the variance 385.861²
    all_burst_alternation: 1.7799,
  };
  assert.deepEqual(Object.keys(expected).sort(), [...FEATURE_NAMES].sort(), 'the example covers every feature');
  for (const [name, v] of Object.entries(expected)) assert.equal(feature(f, name), v, name);
});

test('burst alternation: about 4 for big/small frames, 2 for independent sizes, near 0 for a smooth drift', () => {
  const ratio = (sizes: number[]) => {
    const sink = new CollectSink();
    const p = new Pipeline(opts(), sink);
    // one packet per frame, 40 ms apart, all in one window
    sizes.forEach((b, i) => p.onPacket(out(4000 + i * 0.04, b)));
    p.finish();
    return feature(sink.windows[0].features, 'out_burst_alternation');
  };
  assert.equal(ratio([1200, 400, 1200, 400, 1200, 400, 1200, 400, 1200, 400, 1200, 400]), 4);
  assert.ok(ratio([400, 500, 600, 700, 800, 900, 1000, 1100, 1200, 1100]) < 0.3);
  // 12 frames make a noisy estimate: the mean over 40 windows of random sizes (2·12/11 expected,
  // the variance being the population one)
  const r = mulberry32(5);
  let sum = 0;
  for (let k = 0; k < 40; k++) sum += ratio(Array.from({ length: 12 }, () => 300 + Math.round(900 * r())));
  assert.ok(Math.abs(sum / 40 - 2.18) < 0.25, String(sum / 40));
  assert.equal(ratio([800, 800, 800, 800]), 0, 'equal sizes: no variance, 0');
});

test('packets of one frame form one burst; audio in between neither splits nor joins it', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts(), sink);
  // frame 1: 3 packets 1 ms apart with an audio packet among them; frame 2: 2 packets 40 ms later
  p.onPacket(out(3000.01, 1100));
  p.onPacket(out(3000.011, 120));
  p.onPacket(out(3000.012, 1100));
  p.onPacket(out(3000.013, 700));
  p.onPacket(out(3000.053, 1100));
  p.onPacket(out(3000.054, 400));
  p.onPacket(out(3000.2, 90)); // audio alone is no burst
  p.finish();
  const f = sink.windows[0].features;
  assert.equal(feature(f, 'out_bursts'), 2);
  assert.equal(feature(f, 'out_max_burst_bytes'), 2900);
  assert.equal(feature(f, 'out_avg_burst_bytes'), 2200);
  assert.equal(feature(f, 'out_std_burst_bytes'), 700);
  assert.equal(feature(f, 'out_burst_cv'), 0.3182);
});

test('the Spy Your Mate features are there with their meaning', () => {
  assert.equal(SPY_YOUR_MATE_FEATURES.length, 12);
  for (const n of SPY_YOUR_MATE_FEATURES) assert.ok(FEATURE_NAMES.includes(n), n);
  const sink = new CollectSink();
  const p = new Pipeline(opts(), sink);
  // outbound: 4 packets of 250 bytes 0.1 s apart; inbound: 2 of 500, 0.2 s apart
  for (let i = 0; i < 4; i++) p.onPacket(out(2000.05 + i * 0.1, 250));
  p.onPacket(inb(2000.1, 500));
  p.onPacket(inb(2000.3, 500));
  p.finish();
  const f = sink.windows[0].features;
  assert.equal(feature(f, 'out_avg_interval'), 0.1);
  assert.equal(feature(f, 'in_avg_interval'), 0.2);
  assert.equal(feature(f, 'out_avg_size'), 250);
  assert.equal(feature(f, 'all_avg_size'), 333.333, 'sizes are kept to 1/1000 byte');
  assert.equal(feature(f, 'all_packets'), 6);
  assert.equal(feature(f, 'in_bytes'), 1000, 'bytes per half-second window: the report\'s "bit rate"');
});

test('windows are aligned to multiples of the window length and empty ones inside a call are emitted', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts({ windowMs: 300 }), sink);
  p.onPacket(out(999.95, 100)); // window [999.9, 1000.2)
  p.onPacket(out(1001.0, 100)); // window [1000.8, 1001.1): two empty windows between
  p.finish();
  assert.deepEqual(
    sink.windows.map((w) => [w.start, w.end, w.packets]),
    [
      [999.9, 1000.2, 1],
      [1000.2, 1000.5, 0],
      [1000.5, 1000.8, 0],
      [1000.8, 1001.1, 1],
    ],
  );
  const empty = sink.windows[1].features;
  assert.equal(feature(empty, 'all_packets'), 0);
  assert.equal(feature(empty, 'all_avg_interval'), 0.3, 'no two packets: the interval is the window length');
  assert.equal(sink.ends[0].reason, 'end-of-trace');
});

test('a call silent for the media-stop time ends, without trailing empty windows', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts({ mediaStopS: 3 }), sink);
  p.onPacket(out(100.1, 100));
  p.onPacket(inb(100.7, 100));
  p.advance(102);
  assert.equal(sink.windows.length, 2, 'windows close on the clock, before the next packet');
  assert.equal(sink.ends.length, 0);
  p.advance(104);
  assert.equal(sink.ends.length, 1);
  assert.equal(sink.ends[0].reason, 'media-stop');
  assert.equal(sink.windows.length, 2);
  p.finish();
  assert.equal(sink.ends.length, 1, 'an ended call does not end twice');
});

test('TCP RST and FIN from both sides end a call', () => {
  for (const [flagsA, flagsB, reason] of [
    [0x04, 0, 'rst'],
    [0x11, 0x11, 'fin'],
  ] as const) {
    const sink = new CollectSink();
    const p = new Pipeline(opts(), sink);
    const a = (ts: number, flags: number) =>
      pkt({ src: L, dst: R, sport: 4000, dport: 7000, ts, proto: 6, tcpFlags: flags, len: 500 });
    const b = (ts: number, flags: number) =>
      pkt({ src: R, dst: L, sport: 7000, dport: 4000, ts, proto: 6, tcpFlags: flags, len: 500 });
    p.onPacket(a(1.0, 0x02));
    p.onPacket(b(1.1, 0x12));
    p.onPacket(a(1.7, flagsA));
    if (flagsB) {
      assert.equal(sink.ends.length, 0, 'one FIN is a half-close');
      p.onPacket(b(1.8, flagsB));
    }
    assert.equal(sink.ends.length, 1, reason);
    assert.equal(sink.ends[0].reason, reason);
    assert.equal(sink.ends[0].flow.protocol, 'TCP');
    p.onPacket(a(1.9, 0x10)); // the last ACK joins the ended flow instead of starting a new one
    assert.equal(p.stats.flows, 1);
  }
});

test('idle flows are forgotten: the same 5-tuple later is a new flow with a new ID', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts({ idleTimeoutS: 10, mediaStopS: 5 }), sink);
  p.onPacket(out(50, 100));
  p.onPacket(out(50.6, 100));
  p.onPacket(pkt({ src: L, dst: R, sport: 1, dport: 2, ts: 55, len: 60 }));
  assert.equal(p.activeFlows, 2);
  p.advance(64.5);
  assert.equal(p.activeFlows, 1, 'the other flow (last seen at 55) is not idle yet');
  p.advance(65.5);
  assert.equal(p.activeFlows, 0);
  assert.equal(sink.ends[0].reason, 'media-stop');
  p.onPacket(out(70, 100));
  assert.equal(p.stats.flows, 3);
  p.finish();
  assert.equal(sink.starts.length, 2);
  assert.notEqual(sink.starts[0].flowID, sink.starts[1].flowID);
});

test('direction: --local, then private addresses, then the initiator', () => {
  const cases: Array<[string, string, string[], string]> = [
    ['8.8.8.8', '10.0.0.1', [], '10.0.0.1'], // the private side, though it answered
    ['10.0.0.2', '10.0.0.1', [], '10.0.0.2'], // both private: the initiator
    ['8.8.8.8', '9.9.9.9', [], '8.8.8.8'], // both public: the initiator
    ['10.0.0.2', '8.8.8.8', ['8.8.8.0/24'], '8.8.8.8'], // --local wins
    ['2001:db8::1', 'fe80::1', [], 'fe80::1'], // IPv6 link-local
  ];
  for (const [first, second, local, want] of cases) {
    const sink = new CollectSink();
    const p = new Pipeline(opts({ local: local.map(parseCidr), rules: rules('any: udp') }), sink);
    p.onPacket(pkt({ src: first, dst: second, sport: 1111, dport: 2222, ts: 10, len: 100 }));
    p.onPacket(pkt({ src: second, dst: first, sport: 2222, dport: 1111, ts: 10.1, len: 300 }));
    p.finish();
    const w = sink.windows[0];
    assert.equal(w.srcIP, want, `${first} → ${second} with --local ${local.join(',')}`);
    const outBytes = feature(w.features, 'out_bytes');
    assert.equal(outBytes, want === first ? 100 : 300, 'out is from the local side');
  }
});

test('flows past the table cap evict the idlest; a flood of 1M random 5-tuples stays bounded', () => {
  const sink = new CollectSink();
  const cap = 5000;
  const p = new Pipeline(opts({ maxFlows: cap, rules: rules('webrtc: udp shape=rtp rate>=20pps/2s') }), sink);
  // a call that stays active is kept while the flood goes by
  const call = (ts: number) => pkt({ src: L, dst: R, sport: 5000, dport: 6000, ts, len: 1000, payload: rtp(ts) });
  const flood = pkt({ src: '10.1.0.1', dst: '198.51.100.1', sport: 1, dport: 1, ts: 0, len: 80 });
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  let seed = 12345;
  let maxActive = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const ts = 1000 + i / 100_000;
    if (i % 200 === 0) p.onPacket(call(ts));
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    flood.src[0] = seed;
    flood.des[0] = (seed * 7) >>> 0;
    flood.srcPort = seed & 0xffff;
    flood.desPort = seed >>> 16 || 1;
    flood.ts = ts;
    p.onPacket(flood);
    if ((i & 1023) === 0) maxActive = Math.max(maxActive, p.activeFlows);
  }
  const heapAfter = process.memoryUsage().heapUsed;
  assert.ok(maxActive <= cap, `active flows ${maxActive} over the cap ${cap}`);
  assert.ok(p.stats.flows > 900_000);
  assert.ok(
    heapAfter - heapBefore < 64 * 1024 * 1024,
    `heap grew ${((heapAfter - heapBefore) / 1048576).toFixed(0)} MB`,
  );
  p.finish();
  assert.equal(sink.starts.length, 1, 'the live call survived the flood');
  assert.equal(sink.ends[0].reason, 'end-of-trace');
});

function rtp(ts: number): Buffer {
  const b = Buffer.alloc(40);
  b[0] = 0x80;
  b[1] = 96;
  b.writeUInt16BE(Math.floor(ts * 100) & 0xffff, 2);
  b.writeUInt32BE(0xabcdef, 8);
  return b;
}

test('an evicted call ends with reason evicted', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts({ maxFlows: 2 }), sink);
  p.onPacket(out(1, 100));
  p.onPacket(out(1.6, 100));
  p.onPacket(pkt({ src: L, dst: R, sport: 1, dport: 6000, ts: 2, len: 60 }));
  p.onPacket(pkt({ src: L, dst: R, sport: 2, dport: 6000, ts: 2.1, len: 60 }));
  assert.equal(p.activeFlows, 2);
  assert.equal(sink.ends.length, 0, 'flows that are not calls go first');
  const sink2 = new CollectSink();
  const q = new Pipeline(opts({ maxFlows: 1 }), sink2);
  q.onPacket(out(1, 100));
  q.onPacket(out(1.6, 100));
  q.onPacket(pkt({ src: L, dst: R, sport: 1, dport: 6000, ts: 2, len: 60 }));
  assert.equal(q.activeFlows, 1);
  assert.deepEqual(
    sink2.ends.map((e) => e.reason),
    ['evicted'],
  );
  assert.equal(sink2.windows.length, 2, "the evicted call's open window was emitted");
});

test('frames that are not IP count as packets and move the clock', () => {
  const sink = new CollectSink();
  const p = new Pipeline(opts({ mediaStopS: 2 }), sink);
  p.onPacket(out(10.1, 100));
  p.onPacket(out(10.6, 100));
  p.onOther(11.2);
  assert.equal(sink.windows.length, 2, 'the clock passed the end of window [10.5, 11)');
  p.onOther(13);
  assert.deepEqual(
    sink.ends.map((e) => e.reason),
    ['media-stop'],
  );
  assert.deepEqual(
    [p.stats.packets, p.stats.ipPackets, p.stats.flows, p.stats.calls, p.stats.windows],
    [4, 2, 1, 1, 2],
  );
});

test('a window kept as pending packets keeps sizes past 65535 (IPv6 jumbo-ish, TSO)', () => {
  // ≤ 4 packets in the window: they are held in the pending slab and replayed when it closes
  const sink = new CollectSink();
  const p = new Pipeline(opts(), sink);
  const big = (ts: number, len: number) =>
    pkt({ src: '2001:db8::1', dst: '2001:db8::2', sport: 5000, dport: 6000, ts, len });
  p.onPacket(big(1000.1, 100));
  p.onPacket(big(1000.2, 65560));
  p.onPacket(big(1000.3, 300));
  p.finish();
  assert.equal(sink.windows.length, 1);
  const w = sink.windows[0];
  assert.equal(w.bytes, 100 + 65560 + 300 + 3 * 14);
  assert.equal(feature(w.features, 'out_max_size'), 65560);
  assert.equal(feature(w.features, 'out_bytes'), 100 + 65560 + 300);
});
