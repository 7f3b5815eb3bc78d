import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  columnByName,
  COLUMNS,
  formatColumnList,
  resolveColumns,
  humanCount,
  type ColumnDef,
} from '../../src/tui/columns';
import { UserError } from '../../src/util/errors';
import { flowRow, T0 } from '../../src/testkit/fixture-db';

const TABLE_VI = [
  'certainty',
  'flowID',
  'srcIP',
  'srcPort',
  'desIP',
  'desPort',
  'protocol',
  'datetimeStart',
  'datetimeEnd',
  'timeOut',
  'startTime',
  'endTime',
  'duration',
  'ringTime',
  'end',
];

test('columns 0-14 are Table VI of the Skype Traffic Detector, in its order; ours follow from 15', () => {
  assert.deepEqual(
    COLUMNS.slice(0, 15).map((c) => c.name),
    TABLE_VI,
  );
  assert.deepEqual(
    COLUMNS.slice(15, 22).map((c) => c.name),
    ['presence', 'app', 'packets', 'bytes', 'bitrate', 'presenceShare', 'windows'],
  );
  COLUMNS.forEach((c, i) => assert.equal(c.num, i));
});

test('columns are chosen by number or name, comma lists allowed, in the order given', () => {
  assert.deepEqual(
    resolveColumns(['0', '1', '2', '3']).map((c) => c.name),
    ['certainty', 'flowID', 'srcIP', 'srcPort'],
  );
  assert.deepEqual(
    resolveColumns(['15,srcip', 'BITRATE', '15']).map((c) => c.name),
    ['presence', 'srcIP', 'bitrate'],
  );
  const all = resolveColumns([]);
  // every column but `sensor`, which only the view over many sensors fills (third there)
  assert.deepEqual(
    COLUMNS.filter((c) => !all.includes(c)).map((c) => c.name),
    ['sensor'],
  );
  assert.equal(all[0].name, 'presence', 'by default presence leads');
  const view = resolveColumns([], true);
  assert.equal(view.length, COLUMNS.length);
  assert.deepEqual(
    view.slice(0, 6).map((c) => c.name),
    ['presence', 'remotePresence', 'since', 'certainty', 'sensor', 'app'],
  );
  assert.equal(view.at(-1)!.name, 'run', 'PostgreSQL keeps sensors, not runs: run comes last');
});

test('an unknown column is a usage error listing the valid ones', () => {
  for (const bad of ['99', 'srcMAC', '1,,x']) {
    assert.throws(
      () => resolveColumns([bad]),
      (e: unknown) =>
        e instanceof UserError &&
        e.exitCode === 2 &&
        /unknown column/.test(e.message) &&
        e.message.includes('14 end') &&
        e.message.includes('15 presence'),
    );
  }
});

test('--list-columns prints number, name and meaning of every column', () => {
  const lines = formatColumnList().trimEnd().split('\n');
  assert.equal(lines.length, COLUMNS.length);
  assert.match(lines[0], /^ 0 {2}certainty +the classifier's confidence/);
  assert.match(lines[13], /^13 {2}ringTime +seconds from the flow's first packet/);
  // every word the presence columns can show, and whose camera each is
  assert.match(lines[15], /^15 {2}presence +\(header "local cam"\) the local side's camera.*camera-off.*no video/);
  assert.match(lines[26], /^26 {2}remotePresence +\(header "remote cam"\) the remote side's camera/);
});

test('the columns added for both cameras and since when come after the existing ones (and sensor, callCertainty): 0-24 keep their numbers', () => {
  assert.deepEqual(
    COLUMNS.slice(15, 23).map((c) => c.name),
    ['presence', 'app', 'packets', 'bytes', 'bitrate', 'presenceShare', 'windows', 'probability'],
  );
  assert.deepEqual(
    COLUMNS.slice(23).map((c) => c.name),
    ['sensor', 'callCertainty', 'since', 'remotePresence', 'remoteSince', 'remoteCertainty', 'run'],
  );
});

test('since: how long the presence has been what it is, on the pipeline clock; ended once the call has', () => {
  const since = columnByName('since') as ColumnDef;
  const remote = columnByName('remoteSince') as ColumnDef;
  const row = flowRow({ presence_since: T0 + 10, remote_since: T0 - 3590 });
  assert.equal(since.text(row, { monitorStart: T0, clock: T0 + 55 }), '45s');
  assert.equal(since.text(row, { monitorStart: T0, clock: T0 + 255 }), '4m05s');
  assert.equal(remote.text(row, { monitorStart: T0, clock: T0 + 55 }), '1h00m');
  assert.equal(since.text({ ...row, ended: 1 }, { monitorStart: T0, clock: T0 + 55 }), 'ended');
  assert.equal(since.text({ ...row, presence_since: null }, { monitorStart: T0, clock: T0 + 55 }), '-');
});

test('column values are computed from a flows row and the monitor start and clock', () => {
  const row = flowRow({
    first_ts: T0 + 10,
    last_ts: T0 + 70.5,
    media_ts: T0 + 12,
    timeout_at: T0 + 100,
    certainty: 87.6,
    windows: 4,
    person_windows: 3,
  });
  const ctx = { monitorStart: T0, clock: T0 + 80 };
  const v = (name: string): string => (COLUMNS.find((c) => c.name === name) as (typeof COLUMNS)[number]).text(row, ctx);
  assert.equal(v('certainty'), '88%');
  assert.equal(v('startTime'), '10.0');
  assert.equal(v('endTime'), '70.5');
  assert.equal(v('duration'), '60.5');
  assert.equal(v('ringTime'), '2.0');
  assert.equal(v('timeOut'), '20');
  assert.equal(v('end'), '-');
  assert.equal(v('presenceShare'), '75%');
  assert.match(v('datetimeStart'), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  const ended = flowRow({ ended: 1, end_reason: 'fin', media_ts: null, certainty: null });
  const e = (name: string): string =>
    (COLUMNS.find((c) => c.name === name) as (typeof COLUMNS)[number]).text(ended, { monitorStart: null, clock: null });
  assert.equal(e('end'), 'fin');
  assert.equal(e('timeOut'), '0');
  assert.equal(e('ringTime'), '-');
  assert.equal(e('certainty'), '-');
  assert.equal(e('startTime'), '-', 'no monitor start known yet');
});

test('counts are shortened with SI prefixes', () => {
  assert.equal(humanCount(999), '999');
  assert.equal(humanCount(1234), '1.2k');
  assert.equal(humanCount(123456789, 'B'), '123MB');
});
