import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { extractTrace } from '../../src/features/extract';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS } from '../../src/features/pipeline';
import { CAMERA_OFF_AFTER_S, SentVideo } from '../../src/features/sent-video';
import type { WindowRecord } from '../../src/features/types';
import { parseCidr } from '../../src/flow/local';
import { loadRules } from '../../src/rules/load';
import { writePcap } from '../../src/testkit/trace-writer';
import { tempDir } from '../../src/testkit/temp';
import { rtcpPayload, rtpPayload, syntheticCall } from '../../src/testkit/synthetic';

const AUDIO = 0x3333;
const VIDEO = 0x1111;

/** A sender's payloads: Opus every 20 ms (48 kHz clock), and 30 video frames/s (90 kHz) while `videoOn(t)`. */
function sender(seconds: number, videoOn: (t: number) => boolean, rtp0 = 1000): Array<{ ts: number; payload: Buffer }> {
  const out: Array<{ ts: number; payload: Buffer }> = [];
  for (let k = 0; k * 0.02 < seconds; k++)
    out.push({ ts: k * 0.02, payload: rtpPayload(111, k, rtp0 + k * 960, AUDIO, 90) });
  for (let f = 0; f / 30 < seconds; f++) {
    const t = f / 30 + 0.003;
    if (videoOn(t))
      for (let i = 0; i < 3; i++)
        out.push({ ts: t + i * 0.0005, payload: rtpPayload(96, f * 3 + i, rtp0 + f * 3000, VIDEO, 1100) });
  }
  for (let k = 0; k < seconds; k++) out.push({ ts: k + 0.5, payload: rtcpPayload() });
  return out.sort((a, b) => a.ts - b.ts);
}

/** Feeds the payloads (each wrapped by `wrap`) and asks cameraOff at every 0.5 s boundary. */
function offTimes(
  packets: Array<{ ts: number; payload: Buffer }>,
  seconds: number,
  wrap = (b: Buffer) => b,
  zoom = false,
): number[] {
  const v = new SentVideo();
  v.reset(zoom, 0);
  const off: number[] = [];
  let i = 0;
  for (let t = 0.5; t <= seconds + 1e-9; t += 0.5) {
    for (; i < packets.length && packets[i].ts < t; i++) {
      const b = wrap(packets[i].payload);
      v.add(packets[i].ts, b, 0, b.length);
    }
    if (v.cameraOff(t)) off.push(t);
  }
  return off;
}

const range = (from: number, to: number) =>
  Array.from({ length: Math.round((to - from) / 0.5) + 1 }, (_, k) => from + k * 0.5);

test('a camera switched off is told from its RTP clock: off 2 s after the last frame, on again with the next', () => {
  assert.equal(CAMERA_OFF_AFTER_S, 2);
  // video until 4 s (last frame 3.97 s), off until 9 s, then on again
  const off = offTimes(
    sender(14, (t) => t < 4 || t >= 9),
    14,
  );
  assert.deepEqual(off, range(6, 9));
  // never switched on: off once the audio stream is timed (1 s) and 2 s have passed
  assert.deepEqual(
    offTimes(
      sender(6, () => false),
      6,
    ),
    range(3, 6),
  );
  // always on: never off
  assert.deepEqual(
    offTimes(
      sender(10, () => true),
      10,
    ),
    [],
  );
});

test('bandwidth probes (padding-only packets on the video stream) while the camera is off are not frames', () => {
  const packets = sender(14, (t) => t < 4 || t >= 9);
  for (let t = 4; t < 9; t += 0.1) {
    const probe = rtpPayload(96, 0, 1000 + 119 * 3000, VIDEO, 255);
    probe[0] |= 0x20; // padding bit: the payload is all padding
    packets.push({ ts: t, payload: probe });
  }
  packets.sort((a, b) => a.ts - b.ts);
  assert.deepEqual(offTimes(packets, 14), range(6, 9));
});

test('the same through TURN ChannelData, and across an RTP timestamp wrap', () => {
  const channelData = (b: Buffer) => {
    const h = Buffer.alloc(4 + Math.ceil(b.length / 4) * 4);
    h.writeUInt16BE(0x4001, 0);
    h.writeUInt16BE(b.length, 2);
    b.copy(h, 4);
    return h;
  };
  assert.deepEqual(
    offTimes(
      sender(14, (t) => t < 4 || t >= 9),
      14,
      channelData,
    ),
    range(6, 9),
  );
  // timestamps start 1 s before 2^32: the video clock still reads 90 kHz, the audio 48 kHz
  assert.deepEqual(
    offTimes(
      sender(14, (t) => t < 4 || t >= 9, 2 ** 32 - 90_000),
      14,
    ),
    range(6, 9),
  );
});

test('what cannot be read is never called off: no RTP, only RTCP, or more streams than a call has', () => {
  const rtcpOnly = Array.from({ length: 20 }, (_, k) => ({ ts: k * 0.5, payload: rtcpPayload() }));
  assert.deepEqual(offTimes(rtcpOnly, 10), []);
  const opaque = Array.from({ length: 500 }, (_, k) => ({ ts: k * 0.02, payload: Buffer.alloc(100, k % 256) }));
  assert.deepEqual(offTimes(opaque, 10), []);
  // random bytes that happen to look like RTP: a new "SSRC" every packet
  const noise = Array.from({ length: 500 }, (_, k) => ({
    ts: k * 0.02,
    payload: rtpPayload(96, k, k * 7919, 0x9000 + k, 100),
  }));
  assert.deepEqual(offTimes(noise, 10), []);
});

/** What sending() says at each 0.5 s boundary of `seconds`, run-length coded: 'video@0.5-1.5 no video@2-10'. */
function sendingTimes(packets: Array<{ ts: number; payload: Buffer }>, seconds: number): string {
  const v = new SentVideo();
  v.reset(false, 0);
  const runs: Array<[string, number, number]> = [];
  let i = 0;
  for (let t = 0.5; t <= seconds + 1e-9; t += 0.5) {
    for (; i < packets.length && packets[i].ts < t; i++)
      v.add(packets[i].ts, packets[i].payload, 0, packets[i].payload.length);
    const state = v.sending(t);
    const last = runs[runs.length - 1];
    if (last && last[0] === state) last[2] = t;
    else runs.push([state, t, t]);
  }
  return runs.map(([state, from, to]) => `${state}@${from}-${to}`).join(' ');
}

test('a direction with no media at all (only RTCP, or nothing) is "no video" after 2 s; sound alone is camera-off', () => {
  const rtcpOnly = Array.from({ length: 20 }, (_, k) => ({ ts: k * 0.5 + 0.1, payload: rtcpPayload() }));
  assert.equal(sendingTimes(rtcpOnly, 10), 'video@0.5-1.5 no video@2-10');
  assert.equal(sendingTimes([], 10), 'video@0.5-1.5 no video@2-10', 'silence too');
  assert.equal(
    sendingTimes(
      sender(10, () => false),
      10,
    ),
    'video@0.5-2.5 camera-off@3-10',
  );
  assert.equal(
    sendingTimes(
      sender(10, () => true),
      10,
    ),
    'video@0.5-10',
  );
  // video that stops with its sound: no media from 6 s on
  assert.equal(
    sendingTimes(
      sender(10, () => true).filter((p) => p.ts < 4 || p.payload[1] >= 192),
      10,
    ),
    'video@0.5-5.5 no video@6-10',
  );
  const opaque = Array.from({ length: 500 }, (_, k) => ({ ts: k * 0.02, payload: Buffer.alloc(100, k % 256) }));
  assert.equal(sendingTimes(opaque, 10), 'video@0.5-10', 'what cannot be read may be video: the model decides');
});

test('Zoom names its media: type 15 audio, 16 video', () => {
  const zoom = (type: number) => {
    const b = Buffer.alloc(60, 0);
    b[0] = 0x05;
    b[8] = type;
    return b;
  };
  const packets: Array<{ ts: number; payload: Buffer }> = [];
  for (let k = 0; k * 0.02 < 10; k++) packets.push({ ts: k * 0.02, payload: zoom(15) });
  for (let f = 0; f / 30 < 10; f++) if (f / 30 < 4) packets.push({ ts: f / 30 + 0.001, payload: zoom(16) });
  packets.sort((a, b) => a.ts - b.ts);
  assert.deepEqual(offTimes(packets, 10, undefined, true), range(6, 10));
  // the same bytes in a flow the rules did not name zoom are not read as Zoom's
  assert.deepEqual(offTimes(packets, 10), []);
});

test('extract: a call whose camera is off for a while has exactly those windows flagged', async () => {
  const dir = tempDir('sent-video');
  const T0 = 1700000000;
  const trace = path.join(dir, 'off.pcap');
  // a's camera off from 3 s to 7 s of a 12 s call; b's stays on
  writePcap(
    trace,
    syntheticCall({
      a: '192.168.1.15',
      b: '10.0.0.9',
      aPort: 50000,
      bPort: 60000,
      start: T0,
      seconds: 12,
      cameraOff: (t) => t >= 3 && t < 7,
    }),
  );
  const windows = async (local: string): Promise<WindowRecord[]> => {
    const got: WindowRecord[] = [];
    await extractTrace(
      trace,
      {
        windowMs: 500,
        rules: loadRules(),
        local: [parseCidr(local)],
        idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
        maxFlows: DEFAULT_MAX_FLOWS,
      },
      { callStart: () => undefined, callEnd: () => undefined, window: (w) => got.push(w) },
    );
    return got;
  };
  const a = await windows('192.168.1.15');
  assert.ok(a.length >= 24);
  // a's last frame before the gap leaves at 2.98 s: windows ending from 5 s on are off, until frames come again at 7 s
  assert.deepEqual(
    a.filter((w) => w.sent === 'camera-off').map((w) => w.end - T0),
    range(5, 7),
  );
  assert.deepEqual(
    a.filter((w) => w.received !== 'video'),
    [],
  );
  // seen from b, b's own camera was never off; a's is, in what b receives
  const b = await windows('10.0.0.9');
  assert.deepEqual(
    b.filter((w) => w.sent !== 'video'),
    [],
  );
  assert.deepEqual(
    b.filter((w) => w.received === 'camera-off').map((w) => w.end - T0),
    range(5, 7),
  );
});
