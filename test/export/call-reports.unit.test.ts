import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallReports } from '../../src/export/call-reports';
import { END_ACTIVE, END_DETECTED, END_FORCED, END_IDLE } from '../../src/export/ipfix';
import { endRec, startRec, windowRec } from '../../src/testkit/records';

const T0 = 1700000000;

test('one report per call per interval, and an end report that makes them add up to the flow totals', () => {
  const reports = new CallReports(10);
  const recs = [startRec('c', T0)];
  for (let i = 0; i < 50; i++) recs.push(windowRec('c', T0 + i * 0.5, 10, i < 30) as never);
  const out = reports.add(recs);
  // windows end at T0+0.5 .. T0+25: the intervals close at T0+10 and T0+20
  assert.deepEqual(
    out.map((r) => [r.packets, r.endReason, r.presence]),
    [
      [200, END_ACTIVE, 'person'],
      [200, END_ACTIVE, 'background'],
    ],
  );
  assert.equal(out[0].startMs, T0 * 1000);
  assert.equal(out[0].endMs, (T0 + 10) * 1000);
  assert.equal(out[1].startMs, (T0 + 10) * 1000);
  const end = reports.add([endRec('c', T0, T0 + 25, 1234, 'fin')]);
  assert.equal(end.length, 1);
  assert.equal(end[0].endReason, END_DETECTED);
  assert.equal(end[0].packets, 1234 - 400);
  assert.equal(end[0].octets, 1234 * 1000 - 400 * 1000);
  assert.equal(end[0].presence, 'background');
  assert.equal(end[0].callCertainty, 100);
  // an ended call is forgotten: no more reports for it
  assert.deepEqual(reports.add([]), []);
});

test('batching does not change the reports: the window that ends an interval sends it', () => {
  const recs = [startRec('c', T0)];
  for (let i = 0; i < 50; i++) recs.push(windowRec('c', T0 + i * 0.5, 3, true) as never);
  const whole = new CallReports(10).add(recs);
  const split = new CallReports(10);
  const parts = recs.flatMap((r) => split.add([r]));
  assert.deepEqual(parts, whole);
});

test('end reasons map to flowEndReason; calls are reported apart', () => {
  const reports = new CallReports(10);
  const out = reports.add([
    startRec('a', T0),
    startRec('b', T0),
    windowRec('a', T0, 5, true),
    windowRec('b', T0, 7, false),
    endRec('a', T0, T0 + 0.5, 5, 'timeout'),
    endRec('b', T0, T0 + 0.5, 9, 'end-of-trace'),
  ]);
  assert.deepEqual(
    out.map((r) => [r.flowId, r.packets, r.endReason]),
    [
      ['a', 5, END_IDLE],
      ['b', 9, END_FORCED],
    ],
  );
});
