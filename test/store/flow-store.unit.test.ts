import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { tempDir } from '../../src/testkit/temp';
import { FEATURE_NAMES } from '../../src/features/names';
import { FlowStore } from '../../src/store/flow-store';
import { featureValues } from '../../src/store/features-blob';
import { openWriteDb, SCHEMA_VERSION } from '../../src/store/migrate';
import { batch, endRec, startRec, windowRec } from '../../src/testkit/records';

const T0 = 1700000000;

function tmpDb(): string {
  const dir = tempDir('store');
  return path.join(dir, 'db', 'spymate.db');
}

function newStore(file: string, timeoutS = 10, keepS = 5) {
  const db = openWriteDb(file);
  return { db, store: new FlowStore(db, { timeoutS, keepS, featureNames: FEATURE_NAMES }) };
}

function dump(db: Database.Database) {
  return {
    flows: db.prepare('SELECT * FROM flows ORDER BY flow_id').all(),
    windows: db.prepare('SELECT * FROM windows ORDER BY flow_id, start').all(),
  };
}

/** A call: start, 10 windows (person for the first 6), then an end by FIN. */
function callRecords(id: string) {
  const recs = [startRec(id, T0)];
  for (let i = 0; i < 10; i++) recs.push(windowRec(id, T0 + i * 0.5, 20 + i, i < 6) as never);
  return recs;
}

test('the database file and its directory are created 0600/0700 with WAL', () => {
  const file = tmpDb();
  const { db } = newStore(file);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(fs.statSync(path.dirname(file)).mode & 0o777, 0o700);
  assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('a call is stored as one flow row with its window history and totals', () => {
  const file = tmpDb();
  const { db, store } = newStore(file);
  store.apply(batch(T0 + 5, [...callRecords('f1'), endRec('f1', T0, T0 + 4.9, 300, 'fin')]), 0);
  const flow = db.prepare('SELECT * FROM flows').get() as Record<string, unknown>;
  assert.equal(flow.flow_id, 'f1');
  assert.equal(flow.windows, 10);
  assert.equal(flow.person_windows, 6);
  // window packets sum to 245; the end event says 300 (packets before the first window): the larger wins
  assert.equal(flow.packets, 300);
  assert.equal(flow.ended, 1);
  assert.equal(flow.end_reason, 'fin');
  assert.equal(flow.media_ts, T0);
  assert.equal(flow.presence, 'background');
  const w = db.prepare('SELECT features, presence, raw, certainty FROM windows ORDER BY start LIMIT 1').get() as Record<
    string,
    unknown
  >;
  assert.ok(Buffer.isBuffer(w.features), 'features are a BLOB');
  const features = featureValues(w.features as Buffer);
  assert.equal(features.length, FEATURE_NAMES.length);
  assert.equal(features[1], Math.round(20 * 2 * 1234.567) / 1000);
  assert.equal(w.presence, 1);
  assert.equal(w.certainty, 80);
  db.close();
});

test('replaying the same records twice leaves the same rows, however they are batched', () => {
  const file = tmpDb();
  const { db, store } = newStore(file);
  const recs = [...callRecords('a'), ...callRecords('b'), endRec('a', T0, T0 + 4.9, 245, 'media-stop')];
  store.apply(batch(T0 + 5, recs), 0);
  const once = dump(db);
  for (let i = 0; i < recs.length; i += 3) store.apply(batch(T0 + 1 + i / 10, recs.slice(i, i + 3)), 0);
  assert.deepEqual(dump(db), once);
  db.close();
});

test('timeOut counts down on the pipeline clock; the sweep ends the record; it leaves after the keep period', () => {
  const file = tmpDb();
  const { db, store } = newStore(file, 10, 5);
  store.apply(batch(T0 + 5, callRecords('t')), 0);
  const row = () =>
    db.prepare('SELECT ended, end_reason, timeout_at, ended_at FROM flows WHERE flow_id = ?').get('t') as
      { ended: number; end_reason: string | null; timeout_at: number; ended_at: number | null } | undefined;
  assert.equal(row()!.timeout_at, T0 + 5 + 10); // last window with packets ends at T0+5
  store.apply(batch(T0 + 14.9, []), 0);
  assert.equal(row()!.ended, 0);
  store.apply(batch(T0 + 15, []), 0);
  assert.equal(row()!.ended, 1);
  assert.equal(row()!.end_reason, 'timeout');
  assert.equal(row()!.ended_at, T0 + 15);
  store.apply(batch(T0 + 19.9, []), 0);
  assert.ok(row(), 'kept during the keep period');
  store.apply(batch(T0 + 20, []), 0);
  assert.equal(row(), undefined);
  assert.equal((db.prepare('SELECT count(*) AS n FROM windows').get() as { n: number }).n, 0);
  db.close();
});

test('meta rows carry the run and the counters', () => {
  const file = tmpDb();
  const { db, store } = newStore(file);
  store.writeRunMeta({ source: 'file:/x.pcap', model: 'm.json', windowMs: 500 });
  store.apply(
    {
      ...batch(T0 + 3, []),
      stats: { packets: 9, drops: 1, pps: 3.4, flows: 2, calls: 1, windows: 7, replayPosition: 0.5 },
    },
    123.4,
  );
  const meta = Object.fromEntries(
    (db.prepare('SELECT key, value FROM meta').all() as Array<{ key: string; value: string }>).map((r) => [
      r.key,
      r.value,
    ]),
  );
  assert.equal(meta.source, 'file:/x.pcap');
  assert.equal(meta.window_ms, '500');
  assert.equal(meta.clock, String(T0 + 3));
  assert.equal(meta.monitor_start, String(T0));
  assert.equal(meta.packets, '9');
  assert.equal(meta.drops, '1');
  assert.equal(meta.records_per_s, '123');
  assert.equal(meta.replay_position, '0.5');
  assert.equal(meta.schema_version, String(SCHEMA_VERSION));
  assert.deepEqual(JSON.parse(meta.feature_names), [...FEATURE_NAMES]);
  db.close();
});

test('windows stored with another feature list are rewritten by name when a run with a new list opens the database', () => {
  const file = tmpDb();
  const first = newStore(file);
  first.store.writeRunMeta({ source: 'file:/x.pcap', model: 'm.json', windowMs: 500 });
  first.store.apply(batch(T0 + 5, callRecords('f1')), 0);
  const read = (db: Database.Database) =>
    (db.prepare('SELECT features FROM windows ORDER BY start').pluck().all() as Buffer[]).map((b) =>
      Array.from(featureValues(b)),
    );
  const before = read(first.db);
  assert.equal(before[0].length, FEATURE_NAMES.length);
  first.db.close();
  // a later spymate: a feature more, the others in another order
  const names = ['new_feature', ...[...FEATURE_NAMES].reverse()];
  for (let run = 0; run < 2; run++) {
    const db = openWriteDb(file);
    new FlowStore(db, { timeoutS: 10, keepS: 5, featureNames: names }).writeRunMeta({
      source: 'file:/y.pcap',
      model: 'm.json',
      windowMs: 500,
    });
    const after = read(db);
    assert.equal(after.length, before.length);
    after.forEach((v, w) => {
      assert.equal(v.length, names.length);
      assert.ok(Number.isNaN(v[0]), 'a feature the old run did not have is NaN');
      assert.deepEqual(v.slice(1), [...before[w]].reverse(), `window ${w}, run ${run}: each value under its own name`);
    });
    assert.deepEqual(
      JSON.parse(db.prepare("SELECT value FROM meta WHERE key = 'feature_names'").pluck().get() as string),
      names,
    );
    db.close();
  }
});

test("without readable feature names, stored windows of another width are not read under this run's names", () => {
  const file = tmpDb();
  const first = newStore(file);
  first.store.apply(batch(T0 + 5, callRecords('f1')), 0);
  first.db.prepare("DELETE FROM meta WHERE key = 'feature_names'").run();
  const kept = (first.db.prepare('SELECT features FROM windows ORDER BY start').pluck().all() as Buffer[]).map((b) =>
    Array.from(featureValues(b)),
  );
  first.db.close();
  // same width: taken to be this run's order, untouched
  const same = openWriteDb(file);
  new FlowStore(same, { timeoutS: 10, keepS: 5, featureNames: FEATURE_NAMES }).writeRunMeta({
    source: 'file:/y.pcap',
    model: 'm.json',
    windowMs: 500,
  });
  assert.deepEqual(
    (same.prepare('SELECT features FROM windows ORDER BY start').pluck().all() as Buffer[]).map((b) =>
      Array.from(featureValues(b)),
    ),
    kept,
  );
  same.prepare("UPDATE meta SET value = 'not json' WHERE key = 'feature_names'").run();
  same.close();
  // another width and no names to go by: NaN, not values under the wrong names
  const wider = openWriteDb(file);
  const names = [...FEATURE_NAMES, 'extra'];
  new FlowStore(wider, { timeoutS: 10, keepS: 5, featureNames: names }).writeRunMeta({
    source: 'file:/z.pcap',
    model: 'm.json',
    windowMs: 500,
  });
  for (const b of wider.prepare('SELECT features FROM windows').pluck().all() as Buffer[]) {
    const v = featureValues(b);
    assert.equal(v.length, names.length);
    assert.ok(v.every((x) => Number.isNaN(x)));
  }
  wider.close();
});

test("a call's certainty and why it is one are stored from its start event", () => {
  const file = tmpDb();
  const { db, store } = newStore(file);
  const learnt = { ...startRec('c', T0), app: 'call', callCertainty: 0.87, callReason: 'classifier: P(call) 0.87' };
  store.apply(batch(T0 + 5, [learnt, { ...startRec('r', T0), callReason: 'rules/73-imo.rules:6' }]), 0);
  const rows = db.prepare('SELECT flow_id, call_certainty, call_reason FROM flows ORDER BY flow_id').all();
  assert.deepEqual(
    rows.map((r) => ({ ...(r as object) })),
    [
      { flow_id: 'c', call_certainty: 0.87, call_reason: 'classifier: P(call) 0.87' },
      { flow_id: 'r', call_certainty: 1, call_reason: 'rules/73-imo.rules:6' },
    ],
  );
  db.close();
});
