import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { formatAddr } from '../../src/capture/addr';
import { decodePacket, newDecodedPacket, newRawPacket } from '../../src/capture/decode';
import { openTrace } from '../../src/capture/reader';
import { rtpHeaderAt } from '../../src/rules/shapes';
import { writePcapng, type TracePacket } from '../../src/testkit/trace-writer';
import * as fs from 'node:fs';
import { projectRoot } from '../../src/rules/paths';
import { LAB_DIR, labLocalIp, labRecordings, spymate } from '../../src/testkit/spymate-cli';
import { ndjsonRecords, readDb, runCli, tmpDir } from './run-cli';

const CALL = 'office-vp8';
/** Chromium's Opus payload type: what stays when the camera goes off */
const OPUS = 111;
const OFF_FROM = 40;
const OFF_TO = 80;

/**
 * A real lab call in which peer A switches the camera off from 40 s to 80 s: its video packets
 * (every RTP packet A sends that is not Opus: video, retransmissions) are taken out of the
 * recording there, as the browser stops sending them; audio, RTCP and B's media stay.
 */
async function cameraOffCall(out: string): Promise<{ t0: number; local: string }> {
  const local = labLocalIp(CALL);
  const src = await openTrace(path.join(LAB_DIR, `${CALL}.pcapng.gz`));
  const raw = newRawPacket();
  const p = newDecodedPacket();
  const kept: TracePacket[] = [];
  let t0 = NaN;
  try {
    do {
      while (src.next(raw)) {
        if (t0 !== t0) t0 = raw.ts;
        const t = raw.ts - t0;
        if (
          t >= OFF_FROM &&
          t < OFF_TO &&
          decodePacket(raw, p) &&
          p.proto === 17 &&
          formatAddr(p.src, p.ipVersion) === local
        ) {
          const rtp = rtpHeaderAt(p.buf, p.payloadOff, p.payloadCapLen);
          if (rtp >= 0 && (p.buf[rtp + 1] & 0x7f) !== OPUS) continue;
        }
        kept.push({
          ts: raw.ts,
          frame: Buffer.from(raw.buf.subarray(raw.off, raw.off + raw.capLen)),
          origLen: raw.wireLen,
        });
      }
    } while (await src.more());
  } finally {
    src.close();
  }
  writePcapng(out, kept);
  return { t0, local };
}

test(
  `a real call whose camera goes off (${CALL}, ${OFF_FROM}–${OFF_TO} s): the monitor says camera-off there, and only there`,
  {
    skip: !labRecordings().includes(CALL) && `lab recording ${CALL} not in test/fixtures/calls`,
    timeout: 60_000,
  },
  async () => {
    const dir = tmpDir('camera-off');
    const trace = path.join(dir, 'off.pcapng');
    const { t0, local } = await cameraOffCall(trace);
    const db = path.join(dir, 'off.db');
    const r = await runCli(['-f', trace, '--headless', '--speed', 'max', '--local', local, '--db', db]);
    assert.equal(r.code, 0, r.stderr);
    const windows = ndjsonRecords(r.stdout).filter((o) => o.event === 'window');
    assert.ok(windows.length > 200);
    const at = (w: Record<string, unknown>) => ({ start: (w.start as number) - t0, end: (w.end as number) - t0 });
    for (const w of windows) {
      const { start, end } = at(w);
      const off = w.presence === 'camera-off';
      // the last frame leaves just before 40 s: off from 2 s later; the first frame after 80 s ends it
      if (start >= OFF_FROM + 2.5 && end <= OFF_TO)
        assert.ok(off, `window at ${start.toFixed(1)} s: ${String(w.presence)}`);
      if (end < OFF_FROM + 2 || start >= OFF_TO + 0.5) assert.ok(!off, `window at ${start.toFixed(1)} s: camera-off`);
      if (off)
        assert.deepEqual([w.probability, w.certainty], [null, null], 'no model is asked while the camera is off');
      else assert.match(String(w.presence), /^(person|background)$/);
    }
    const offCount = windows.filter((w) => w.presence === 'camera-off').length;
    assert.ok(offCount >= 2 * (OFF_TO - OFF_FROM - 3), `${offCount} windows camera-off`);
    // stored: no presence for those windows; the flow's latest presence is the model's again
    const dump = readDb(db);
    assert.equal(dump.windows.filter((w) => w.presence === null).length, offCount);
    assert.equal(dump.flows.length, 1);
    assert.match(String(dump.flows[0].presence), /^(person|background)$/);
  },
);

/** A call recorded by the lab with peer A's camera switched off and on again (test/fixtures/camera-off). */
const REAL = path.join(projectRoot(), 'test', 'fixtures', 'camera-off', 'camera-off-vp8');

test(
  'a lab call whose camera was switched off by the page (replaceTrack(null)): camera-off from 2 s after it, until it is back',
  {
    skip: !fs.existsSync(`${REAL}.json`) && 'test/fixtures/camera-off missing',
    timeout: 60_000,
  },
  async () => {
    const meta = JSON.parse(fs.readFileSync(`${REAL}.json`, 'utf8')) as {
      localIp: string;
      cameraOff: { offEpoch: number; onEpoch: number };
    };
    const { offEpoch, onEpoch } = meta.cameraOff;
    assert.ok(onEpoch - offEpoch > 15);
    const dir = tmpDir('camera-off-real');
    const r = await runCli([
      '-f',
      `${REAL}.pcapng.gz`,
      '--headless',
      '--speed',
      'max',
      '--local',
      meta.localIp,
      '--db',
      path.join(dir, 'r.db'),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const windows = ndjsonRecords(r.stdout).filter((o) => o.event === 'window');
    assert.ok(windows.length > 60);
    for (const w of windows) {
      const start = w.start as number;
      const end = w.end as number;
      const off = w.presence === 'camera-off';
      const when = `window ${(start - offEpoch).toFixed(1)} s after the switch: ${String(w.presence)}`;
      if (start >= offEpoch + 2.5 && end <= onEpoch) assert.ok(off, when);
      // frames already encoded when the button was pressed still go out; the first one after it ends camera-off
      if (end <= offEpoch + 2 || start >= onEpoch + 0.5) assert.ok(!off, when);
    }
    // train/eval/predict leave the same windows out, and say so
    const offCount = windows.filter((w) => w.presence === 'camera-off').length;
    const ev = spymate(
      ['eval', `${REAL}.pcapng.gz`, '--labels', `${REAL}.labels.csv`, '--local', meta.localIp, '--json'],
      dir,
    );
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stderr, new RegExp(`: ${offCount} windows in which the local side sent no video left out`));
    const scored = (JSON.parse(ev.stdout) as { windows: number }).windows;
    // every other window is scored but those astride a label change or the labels' ends
    assert.ok(
      scored <= windows.length - offCount && scored >= windows.length - offCount - 6,
      `${scored} of ${windows.length - offCount} windows scored`,
    );
  },
);
