import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES } from '../../src/features/names';
import { BatchBuilder, unpackBatch, type SealedBatch } from '../../src/store/batch';
import { parseRecordLine, quotedKeys, recordToJson } from '../../src/store/ndjson';
import type { LiveRecord, RecordBatch, WindowOut } from '../../src/store/types';
import { UserError } from '../../src/util/errors';
import { endRec, STATS, startRec, windowRec } from '../../src/testkit/records';

const KEYS = quotedKeys(FEATURE_NAMES);

test('a window record is one JSON object with the documented keys in order, and parses back', () => {
  const w = windowRec('f', 1700000000.5, 12, true, 0.5, 3);
  const line = recordToJson(w, KEYS);
  const o = JSON.parse(line);
  const keys = Object.keys(o);
  assert.deepEqual(keys.slice(0, 13), [
    'event',
    'flowID',
    'app',
    'srcIP',
    'srcPort',
    'desIP',
    'desPort',
    'protocol',
    'start',
    'end',
    'packets',
    'bytes',
    'callCertainty',
  ]);
  assert.deepEqual(keys.slice(13, 13 + FEATURE_NAMES.length), [...FEATURE_NAMES]);
  assert.deepEqual(keys.slice(-8), [
    'presence',
    'probability',
    'raw',
    'rawProbability',
    'certainty',
    'remotePresence',
    'remoteProbability',
    'remoteCertainty',
  ]);
  assert.equal(o[FEATURE_NAMES[3]], null, 'NaN is written as null');
  assert.deepEqual(parseRecordLine(line, FEATURE_NAMES, 'x:1'), w);
  // a window with the camera off: no model figures, and `--records` reads it back as such
  const off = {
    ...w,
    presence: 'camera-off' as const,
    probability: null,
    raw: null,
    rawProbability: null,
    certainty: null,
    remotePresence: 'no video' as const,
    remoteProbability: null,
    remoteCertainty: null,
  };
  assert.match(
    recordToJson(off, KEYS),
    /"presence":"camera-off","probability":null,"raw":null,"rawProbability":null,"certainty":null,"remotePresence":"no video","remoteProbability":null,"remoteCertainty":null\}$/,
  );
  assert.deepEqual(parseRecordLine(recordToJson(off, KEYS), FEATURE_NAMES, 'x:1'), off);
  // records written before both cameras read back with the remote camera unknown
  const old = recordToJson(w, KEYS).replace(/,"remotePresence".*\}$/, '}');
  assert.deepEqual(parseRecordLine(old, FEATURE_NAMES, 'x:1'), {
    ...w,
    remotePresence: 'unknown',
    remoteProbability: null,
    remoteCertainty: null,
  });
});

test('start and end events round-trip; an end needs a known reason', () => {
  const classified = { ...startRec('c', 1700000000), callCertainty: 0.87, callReason: 'classifier: P(call) 0.87' };
  for (const r of [startRec('s', 1700000000), endRec('s', 1700000000, 1700000009, 42, 'media-stop'), classified]) {
    assert.deepEqual(parseRecordLine(recordToJson(r, KEYS), FEATURE_NAMES, 'x:1'), r);
  }
  const old = recordToJson(startRec('s', 1), KEYS).replace(',"callCertainty":1', '');
  assert.equal(
    parseRecordLine(old, FEATURE_NAMES, 'x:1').callCertainty,
    1,
    'records from before: a rule picked the call',
  );
  const bad = recordToJson(endRec('s', 1, 2, 3, 'fin'), KEYS).replace('"fin"', '"whatever"');
  assert.throws(
    () => parseRecordLine(bad, FEATURE_NAMES, 'r.ndjson:7'),
    (e: unknown) => e instanceof UserError && /^r\.ndjson:7: end event/.test(e.message),
  );
});

test('lines that are not records name the file and line', () => {
  assert.throws(() => parseRecordLine('not json', FEATURE_NAMES, 'f:3'), /^UserError: f:3: not a JSON object/);
  assert.throws(() => parseRecordLine('[1,2]', FEATURE_NAMES, 'f:4'), /f:4: not a JSON object/);
  assert.throws(() => parseRecordLine('{"event":"x"}', FEATURE_NAMES, 'f:5'), /f:5: 'flowID' is missing/);
});

/** A sealed batch through the structured clone postMessage does (transferring what the meter transfers), unpacked. */
function postAndUnpack(sealed: SealedBatch): RecordBatch {
  const arrived = structuredClone(sealed.batch, { transfer: sealed.transfer });
  assert.equal(sealed.batch.rows.length, 0, 'the rows were moved, not copied');
  return unpackBatch(arrived, FEATURE_NAMES.length);
}

test('a batch posted to another thread arrives as the same records, NDJSON lines and feature rows', () => {
  const camOff = windowRec('b', 1700000000, 20, false, 0.5, 5);
  Object.assign(camOff, {
    presence: 'camera-off',
    probability: null,
    raw: null,
    rawProbability: null,
    certainty: null,
  });
  const noVideo = windowRec('é ☎ c', 1700000000.25, 0, true);
  Object.assign(noVideo, {
    remotePresence: 'no video',
    remoteProbability: null,
    remoteCertainty: null,
    callCertainty: 0.62,
  });
  const recs: LiveRecord[] = [
    { ...startRec('a', 1700000000), callReason: 'call classifier: P(call) 0.91 — “stun” ✓', callCertainty: 0.91 },
    windowRec('a', 1700000000, 10, true),
    camOff,
    noVideo,
    startRec('b', 1700000000.5),
    endRec('a', 1700000000, 1700000001, 30, 'fin'),
    { ...endRec('b', 1700000000, 1700000002, 3, undefined) },
  ];
  delete (recs[6] as { reason?: string }).reason;
  const want = recs.map((r) => recordToJson(r, KEYS) + '\n').join('');
  const expected = structuredClone(recs);
  // fields and features the caller reuses after add() must not change the batch
  const builder = new BatchBuilder(KEYS, 1);
  for (const r of recs) builder.add(r);
  (recs[1] as WindowOut).features.fill(0);
  (recs[1] as WindowOut).presence = 'background';
  const sealed = builder.seal(1700000002, 1700000000, STATS, false);
  assert.equal(sealed.transfer.length, 3, 'the NDJSON bytes, the rows and the features move, not copied');
  const batch = postAndUnpack(sealed);
  assert.equal(Buffer.from(batch.ndjson).toString(), want);
  assert.deepEqual(batch.records, expected);
  assert.equal(batch.clock, 1700000002);
  assert.equal(batch.monitorStart, 1700000000);
  assert.deepEqual(batch.stats, STATS);
  assert.equal(batch.final, false);
  const windows = batch.records.filter((r): r is WindowOut => r.event === 'window');
  assert.equal(windows[0].features.buffer, windows[2].features.buffer, 'one matrix');
  assert.ok(Number.isNaN(windows[1].features[5]), 'NaN features stay NaN');
  assert.ok(!('reason' in batch.records[6]) && !('callReason' in batch.records[5]), 'absent fields stay absent');
  // the builder starts afresh: an empty heartbeat
  const next = postAndUnpack(builder.seal(1700000003, 1700000000, STATS, true));
  assert.equal(next.records.length, 0);
  assert.equal(next.ndjson.length, 0);
  assert.equal(next.final, true);
});

test('without readers of the NDJSON (the UI without --out) a batch carries no lines, the rest unchanged', () => {
  const builder = new BatchBuilder(KEYS, 4, false);
  builder.add(startRec('a', 1700000000));
  builder.add(windowRec('a', 1700000000, 10, true));
  const batch = unpackBatch(builder.seal(1700000001, 1700000000, STATS, false).batch, FEATURE_NAMES.length);
  assert.equal(batch.ndjson.length, 0);
  assert.equal(batch.records.length, 2);
  assert.deepEqual(
    [...(batch.records[1] as ReturnType<typeof windowRec>).features],
    [...windowRec('a', 1700000000, 10, true).features],
  );
});
