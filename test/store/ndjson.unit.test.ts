import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES } from '../../src/features/names';
import { BatchBuilder } from '../../src/store/batch';
import { parseRecordLine, quotedKeys, recordToJson } from '../../src/store/ndjson';
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
  assert.deepEqual(keys.slice(-5), ['presence', 'probability', 'raw', 'rawProbability', 'certainty']);
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
  };
  assert.match(
    recordToJson(off, KEYS),
    /"presence":"camera-off","probability":null,"raw":null,"rawProbability":null,"certainty":null\}$/,
  );
  assert.deepEqual(parseRecordLine(recordToJson(off, KEYS), FEATURE_NAMES, 'x:1'), off);
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

test('a sealed batch carries its records, their NDJSON lines as bytes, and the features as rows of one matrix', () => {
  const recs = [
    startRec('a', 1700000000),
    windowRec('a', 1700000000, 10, true),
    windowRec('b', 1700000000, 20, false, 0.5, 5),
    endRec('a', 1700000000, 1700000001, 30, 'fin'),
  ];
  const want = recs.map((r) => recordToJson(r, KEYS) + '\n').join('');
  const values = recs.filter((r) => r.event === 'window').map((r) => [...(r as ReturnType<typeof windowRec>).features]);
  // features the caller reuses after add() must not change the batch
  const builder = new BatchBuilder(KEYS, 1);
  for (const r of recs) builder.add(r);
  (recs[1] as ReturnType<typeof windowRec>).features = new Float64Array(FEATURE_NAMES.length);
  const { batch, transfer } = builder.seal(1700000002, 1700000000, STATS, false);
  assert.equal(Buffer.from(batch.ndjson).toString(), want);
  assert.equal(batch.records.length, 4);
  const windows = batch.records.filter((r) => r.event === 'window') as Array<ReturnType<typeof windowRec>>;
  assert.deepEqual(
    windows.map((w) => [...w.features]),
    values,
  );
  assert.equal(windows[0].features.buffer, windows[1].features.buffer, 'one matrix');
  assert.deepEqual(transfer, [batch.ndjson.buffer, windows[0].features.buffer]);
  // the builder starts afresh: an empty heartbeat
  const next = builder.seal(1700000003, 1700000000, STATS, false).batch;
  assert.equal(next.records.length, 0);
  assert.equal(next.ndjson.length, 0);
});

test('without readers of the NDJSON (the UI without --out) a batch carries no lines, the rest unchanged', () => {
  const builder = new BatchBuilder(KEYS, 4, false);
  builder.add(startRec('a', 1700000000));
  builder.add(windowRec('a', 1700000000, 10, true));
  const { batch } = builder.seal(1700000001, 1700000000, STATS, false);
  assert.equal(batch.ndjson.length, 0);
  assert.equal(batch.records.length, 2);
  assert.deepEqual(
    [...(batch.records[1] as ReturnType<typeof windowRec>).features],
    [...windowRec('a', 1700000000, 10, true).features],
  );
});
