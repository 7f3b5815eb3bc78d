import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES } from '../../src/features/names';
import { parseRecordLine, recordToJson } from '../../src/store/ndjson';
import { UserError } from '../../src/util/errors';
import { endRec, startRec, windowRec } from './records';

test('a window record is one JSON object with the documented keys in order, and parses back', () => {
  const w = windowRec('f', 1700000000.5, 12, true, 0.5, 3);
  const line = recordToJson(w);
  const o = JSON.parse(line);
  const keys = Object.keys(o);
  assert.deepEqual(keys.slice(0, 12), ['event', 'flowID', 'app', 'srcIP', 'srcPort', 'desIP', 'desPort', 'protocol', 'start', 'end', 'packets', 'bytes']);
  assert.deepEqual(keys.slice(12, 12 + FEATURE_NAMES.length), [...FEATURE_NAMES]);
  assert.deepEqual(keys.slice(-5), ['presence', 'probability', 'raw', 'rawProbability', 'certainty']);
  assert.equal(o[FEATURE_NAMES[3]], null, 'NaN is written as null');
  assert.equal(JSON.parse(w.features.json)[3], null);
  assert.deepEqual(parseRecordLine(line, FEATURE_NAMES, 'x:1'), w);
});

test('start and end events round-trip; an end needs a known reason', () => {
  for (const r of [startRec('s', 1700000000), endRec('s', 1700000000, 1700000009, 42, 'media-stop')]) {
    assert.deepEqual(parseRecordLine(recordToJson(r), FEATURE_NAMES, 'x:1'), r);
  }
  const bad = recordToJson(endRec('s', 1, 2, 3, 'fin')).replace('"fin"', '"whatever"');
  assert.throws(() => parseRecordLine(bad, FEATURE_NAMES, 'r.ndjson:7'), (e: unknown) => e instanceof UserError && /^r\.ndjson:7: end event/.test(e.message));
});

test('lines that are not records name the file and line', () => {
  assert.throws(() => parseRecordLine('not json', FEATURE_NAMES, 'f:3'), /^UserError: f:3: not a JSON object/);
  assert.throws(() => parseRecordLine('[1,2]', FEATURE_NAMES, 'f:4'), /f:4: not a JSON object/);
  assert.throws(() => parseRecordLine('{"event":"x"}', FEATURE_NAMES, 'f:5'), /f:5: 'flowID' is missing/);
});
