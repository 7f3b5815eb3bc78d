import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { FEATURE_NAMES } from '../../src/features/names';
import { FlowStore } from '../../src/store/flow-store';
import { featureValues } from '../../src/store/features-blob';
import { openWriteDb } from '../../src/store/migrate';
import { SensorStore, type SensorStoreOptions } from '../../src/store/pg/sensor-store';
import { parsePgUrl } from '../../src/store/pg/target';
import type { LiveRecord, RecordBatch } from '../../src/store/types';
import { pgBinDir, startCluster, type PgCluster } from '../../src/testkit/postgres';
import { sensorOptions } from '../../src/testkit/sensors';
import { batch, endRec, startRec, windowRec } from '../../src/testkit/records';
import { tempDir } from '../../src/testkit/temp';

const T0 = 1700000000;
const skip = pgBinDir()
  ? false
  : 'PostgreSQL not found (apt-get install postgresql; or set SPYMATE_PG_BIN): the PostgreSQL store is not tested';

let pg: PgCluster;
before(async () => {
  if (!skip) pg = await startCluster('store');
});
after(() => pg?.destroy());

function options(sensor: string, over: Partial<SensorStoreOptions> = {}): SensorStoreOptions & { lines: string[] } {
  const lines: string[] = [];
  const o = sensorOptions(pg.url, sensor, {
    timeoutS: 10,
    keepS: 1e9,
    budget: { memoryBytes: 64 << 20, diskBytes: 0, spoolDir: tempDir('spool') },
    drainMs: 20000,
    warn: (l) => lines.push(l),
    ...over,
  });
  return { ...o, lines };
}

const query = <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> => pg.query<T>(sql, params);

/**
 * Two calls over several batches: windows, a camera-off stretch, a FIN end and a timeout. Presence
 * runs of both cameras start inside a batch and go on across the next ones: c1's local camera is
 * camera-off from window 30 (T0+15), its remote one a person from window 25 (T0+12.5); c2's remote
 * side sends no video from window 16 (T0+8).
 */
function batches(): RecordBatch[] {
  const out: RecordBatch[] = [];
  let recs: LiveRecord[] = [startRec('c1', T0), startRec('c2', T0 + 0.2)];
  for (let i = 0; i < 40; i++) {
    const w = windowRec('c1', T0 + i * 0.5, 20 + (i % 7), i < 25, 0.5, i === 3 ? 5 : -1);
    if (i >= 30) w.presence = 'camera-off';
    recs.push(w);
    if (i < 20) {
      const w2 = windowRec('c2', T0 + i * 0.5, i % 5, i % 2 === 0);
      if (i >= 16) Object.assign(w2, { remotePresence: 'no video', remoteProbability: null, remoteCertainty: null });
      recs.push(w2);
    }
    if (i % 9 === 8) {
      out.push(batch(T0 + i * 0.5 + 0.5, recs));
      recs = [];
    }
  }
  recs.push(endRec('c1', T0, T0 + 19.9, 1000, 'fin'));
  out.push(batch(T0 + 20, recs));
  // c2's last packet was at ~T0+9.7: its record times out at the next batches' clock
  out.push(batch(T0 + 25, []), batch(T0 + 40, [], true));
  return out;
}

test('a sensor stores the same flows and windows as the SQLite filter thread', { skip }, async () => {
  const db = openWriteDb(path.join(tempDir('sqlite'), 'same.db'));
  const sqlite = new FlowStore(db, { timeoutS: 10, keepS: 1e9, featureNames: FEATURE_NAMES });
  const store = await SensorStore.open(options('same'));
  for (const b of batches()) {
    sqlite.apply(b, 0);
    store.apply(b, 0);
  }
  const report = await store.close();
  assert.equal(report.delivered, 60);
  assert.equal(report.queued + report.dropped + report.flowsPending, 0);

  const lite = db.prepare('SELECT * FROM flows ORDER BY flow_id').all() as Array<Record<string, unknown>>;
  const flows = await query<Record<string, unknown>>("SELECT * FROM flows WHERE sensor = 'same' ORDER BY flow_id");
  assert.equal(flows.length, 2);
  // PostgreSQL keeps SQLite's flow row, both cameras and since-when included, but for the run
  // (it has sensors instead)
  for (let i = 0; i < lite.length; i++) {
    const { sensor, ended, ...rest } = flows[i];
    assert.equal(sensor, 'same');
    const { run, ...kept } = lite[i];
    assert.equal(run, sqlite.run);
    assert.deepEqual({ ...rest, ended: ended ? 1 : 0 }, kept);
  }
  assert.equal(flows[0].end_reason, 'fin');
  assert.equal(flows[1].end_reason, 'timeout');
  const cameras = (f: Record<string, unknown>) => [f.presence, f.presence_since, f.remote_presence, f.remote_since];
  assert.deepEqual(cameras(flows[0]), ['camera-off', T0 + 15, 'person', T0 + 12.5]);
  // c2's local camera alternates: each window starts a run of its own
  assert.deepEqual(cameras(flows[1]), ['background', T0 + 9.5, 'no video', T0 + 8]);
  assert.deepEqual([flows[0].remote_probability, flows[0].remote_certainty], [0.7, 70]);

  const liteWins = db.prepare('SELECT * FROM windows ORDER BY flow_id, start').all() as Array<Record<string, unknown>>;
  const wins = await query<Record<string, unknown>>(
    `SELECT *, spymate_features(features) AS numbers FROM windows WHERE sensor = 'same' ORDER BY flow_id, start`,
  );
  assert.equal(wins.length, liteWins.length);
  for (let i = 0; i < wins.length; i++) {
    const w = wins[i];
    const l = liteWins[i];
    for (const k of [
      'flow_id',
      'start',
      'end',
      'packets',
      'bytes',
      'bitrate',
      'raw',
      'probability',
      'certainty',
      'raw_probability',
      'remote_probability',
    ]) {
      assert.equal(w[k], l[k], `window ${i} ${k}`);
    }
    // SQLite keeps presence as 1/0 (NULL otherwise); PostgreSQL as the label, camera-off included
    assert.equal(l.presence, w.presence === 'person' ? 1 : w.presence === 'background' ? 0 : null);
    assert.equal(l.remote_presence, w.remote_presence === 'person' ? 1 : w.remote_presence === 'background' ? 0 : null);
    // the same bytes as SQLite's BLOB, and the same numbers through SQL's spymate_features()
    assert.deepEqual(w.features, l.features);
    assert.deepEqual(w.numbers, Array.from(featureValues(l.features as Buffer)));
  }
  assert.equal(wins.filter((w) => w.presence === 'camera-off').length, 10);
  assert.equal(wins.filter((w) => w.remote_presence === 'no video').length, 4);
  assert.ok(Number.isNaN((wins[3].numbers as number[])[5]), 'NaN features stay NaN');

  const [sensor] = await query<Record<string, unknown>>("SELECT * FROM sensors WHERE sensor = 'same'");
  assert.equal(sensor.state, 'stopped');
  assert.equal(sensor.clock, T0 + 40);
  assert.equal(sensor.max_start, T0 + 39 * 0.5);
  assert.deepEqual(sensor.feature_names, [...FEATURE_NAMES]);
  db.close();
});

test('a sensor restarted on the same records adds no rows and keeps the newest flow state', { skip }, async () => {
  const all = batches();
  const first = await SensorStore.open(options('again'));
  for (const b of all.slice(0, 3)) first.apply(b, 0);
  await first.close();
  const before = await query<{ n: number }>("SELECT count(*)::int AS n FROM windows WHERE sensor = 'again'");
  // a run that died (nothing closed) and a full rerun of the same records
  const second = await SensorStore.open(options('again'));
  for (const b of all) second.apply(b, 0);
  const report = await second.close();
  assert.equal(report.delivered, 60);
  const [n] = await query<{ n: number; distinct: number }>(
    "SELECT count(*)::int AS n, count(DISTINCT (flow_id, start))::int AS distinct FROM windows WHERE sensor = 'again'",
  );
  assert.ok(before[0].n > 0 && before[0].n < 60);
  assert.deepEqual(n, { n: 60, distinct: 60 });
  const [c1] = await query<{ windows: number; ended: boolean }>(
    "SELECT windows, ended FROM flows WHERE sensor = 'again' AND flow_id = 'c1'",
  );
  assert.deepEqual(c1, { windows: 40, ended: true });

  // an older state (a third run still at its start) does not overwrite the stored one
  const third = await SensorStore.open(options('again'));
  third.apply(all[0], 0);
  await third.close();
  const [still] = await query<{ windows: number; ended: boolean }>(
    "SELECT windows, ended FROM flows WHERE sensor = 'again' AND flow_id = 'c1'",
  );
  assert.deepEqual(still, { windows: 40, ended: true });
});

test('while PostgreSQL is down the sensor queues, says so, and delivers when it is back', { skip }, async () => {
  const o = options('outage');
  const store = await SensorStore.open(o);
  const all = batches();
  store.apply(all[0], 0);
  await waitFor(async () => (await query("SELECT 1 FROM windows WHERE sensor = 'outage'")).length > 0);
  pg.stop();
  try {
    for (const b of all.slice(1)) store.apply(b, 0);
    await waitFor(async () => o.lines.some((l) => /unreachable/.test(l)));
  } finally {
    pg.start();
  }
  const report = await store.close();
  assert.match(
    o.lines.find((l) => /unreachable/.test(l)) ?? '',
    /127\.0\.0\.1:\d+\/spymate unreachable .*queueing records/,
  );
  assert.match(
    o.lines.find((l) => /is back after/.test(l)) ?? '',
    /is back after \d+\.\d s: delivering [1-9]\d* queued window records/,
  );
  assert.equal(report.outages, 1);
  assert.equal(report.delivered, 60);
  assert.equal(report.dropped + report.queued, 0);
  const [n] = await query<{ n: number }>("SELECT count(*)::int AS n FROM windows WHERE sensor = 'outage'");
  assert.equal(n.n, 60);
});

test(
  'beyond its memory budget the queue spills to a file, and beyond the disk budget it drops and counts',
  { skip },
  async () => {
    // about a window row: field lengths, fixed-size values and strings, the features as float64 bytes
    const rowBytes = 2 + 15 * 4 + 100 + FEATURE_NAMES.length * 8;
    const o = options('budget', {
      budget: { memoryBytes: 12 * rowBytes, diskBytes: 30 * rowBytes, spoolDir: tempDir('spool') },
      drainMs: 20000,
    });
    const store = await SensorStore.open(o);
    pg.stop();
    let report;
    try {
      for (const b of batches()) store.apply(b, 0);
      await waitFor(async () => o.lines.some((l) => /dropping/.test(l)));
    } finally {
      pg.start();
      report = await store.close();
    }
    assert.ok(
      o.lines.some((l) => /queued records in memory: the rest waits in a file in /.test(l)),
      o.lines.join('\n'),
    );
    assert.ok(report.spilled > 0, 'some rows went through the spool file');
    assert.ok(report.dropped > 0, 'some rows were dropped');
    const [n] = await query<{ n: number }>("SELECT count(*)::int AS n FROM windows WHERE sensor = 'budget'");
    // every row is either stored or counted as dropped: nothing lost silently
    assert.equal(n.n + report.dropped, 60);
    assert.equal(n.n, report.delivered);
    const [s] = await query<{ dropped: number }>("SELECT dropped FROM sensors WHERE sensor = 'budget'");
    assert.equal(s.dropped, report.dropped);
  },
);

test('a sensor started while PostgreSQL is down captures on and delivers once it is up', { skip }, async () => {
  const o = options('early');
  pg.stop();
  let store: SensorStore;
  try {
    store = await SensorStore.open(o);
    for (const b of batches()) store.apply(b, 0);
    assert.match(o.lines[0] ?? '', /unreachable \(connection refused\): capturing on, queueing records/);
  } finally {
    pg.start();
  }
  const report = await store.close();
  assert.equal(report.delivered, 60);
  const [n] = await query<{ n: number }>("SELECT count(*)::int AS n FROM windows WHERE sensor = 'early'");
  assert.equal(n.n, 60);
});

test('a database that does not exist is one clear line, before any record', { skip }, async () => {
  const target = parsePgUrl(pg.url.replace(/\/spymate$/, '/nosuchdb'));
  await assert.rejects(
    SensorStore.open({ ...options('x'), target }),
    /nosuchdb: database 'nosuchdb' does not exist; create it \(createdb nosuchdb\)/,
  );
});

async function waitFor(pred: () => Promise<boolean>, ms = 15000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
