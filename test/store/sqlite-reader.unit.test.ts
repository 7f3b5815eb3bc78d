import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SqliteReader } from '../../src/store/sqlite-reader';
import type { SqliteQuery } from '../../src/store/sqlite-reader';
import { FixtureDb, flowRow, replayMeta, windowRows, T0 } from '../../src/testkit/fixture-db';
import { FEATURE_NAMES } from '../../src/features/names';
import { FlowStore, type RunMeta } from '../../src/store/flow-store';
import { openWriteDb } from '../../src/store/migrate';
import { batch, startRec, windowRec } from '../../src/testkit/records';

const ALL: SqliteQuery = { run: null, filter: null, sort: { key: 'flow_id', desc: false } };

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-tui-'));
  dirs.push(dir);
  return dir;
}

test('the reader waits for a database that does not exist yet, then reads it', () => {
  const dir = tmp();
  const file = path.join(dir, 'live.db');
  const reader = new SqliteReader(file);
  const before = reader.read(ALL);
  assert.equal(before.ok, false);
  assert.match(before.problem ?? '', /waiting for the database .*live\.db/);
  assert.equal(fs.existsSync(file), false, 'the UI never creates the database');
  const db = new FixtureDb(file).meta(replayMeta()).flows([flowRow({ flow_id: 'x' })]);
  const after = reader.read(ALL);
  assert.equal(after.ok, true);
  assert.deepEqual(after.order, ['x']);
  assert.equal(after.total, 1);
  assert.equal(reader.rows(after.order)[0].des_port, 3478);
  assert.equal(after.meta.monitorStart, T0);
  assert.equal(after.meta.replayPosition, 0.42);
  assert.equal(after.meta.source, 'file:/tmp/call.pcapng');
  reader.close();
  db.close();
});

test('a file without the tables is waited on, not an error', () => {
  const file = path.join(tmp(), 'empty.db');
  fs.writeFileSync(file, '');
  const snap = new SqliteReader(file).read(ALL);
  assert.equal(snap.ok, false);
  assert.match(snap.problem ?? '', /waiting for the engine to create the tables/);
});

test('the last windows of a flow come oldest first with their features decoded', () => {
  const file = path.join(tmp(), 'w.db');
  const db = new FixtureDb(file)
    .meta(replayMeta())
    .flows([flowRow({ flow_id: 'x' })])
    .windows('x', windowRows(50, T0));
  const reader = new SqliteReader(file);
  reader.read(ALL);
  const w = reader.recentWindows('x', 10);
  assert.equal(w.length, 10);
  assert.equal(w[0].start, T0 + 40 * 0.5);
  assert.equal(w[9].start, T0 + 49 * 0.5);
  assert.equal(w[9].features.pkt_count, 89);
  assert.deepEqual(reader.recentWindows('nope', 10), []);
  reader.close();
  db.close();
});

test('the reader does not block the writer, sees only commits, and knows when nothing changed', () => {
  const file = path.join(tmp(), 'ro.db');
  const db = new FixtureDb(file).meta(replayMeta()).flows([flowRow({ flow_id: 'x' })]);
  const reader = new SqliteReader(file);
  assert.equal(reader.read(ALL).order.length, 1);
  assert.equal(reader.changed(), false, 'nothing committed since the read');
  db.db.exec('BEGIN IMMEDIATE');
  db.db.prepare("DELETE FROM flows WHERE flow_id = 'x'").run();
  const t0 = process.hrtime.bigint();
  assert.equal(reader.read(ALL).order.length, 1, 'an open write transaction is not seen');
  assert.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 40, 'and does not block the reader');
  db.db.exec('COMMIT');
  assert.equal(reader.changed(), true);
  assert.equal(reader.read(ALL).order.length, 0);
  // between reads the reader holds no lock: the writer checkpoints the WAL freely
  const ck = db.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
  assert.equal(ck[0].busy, 0);
  reader.close();
  db.close();
});

test('window features written by the filter thread are read back by name in the details view', () => {
  const file = path.join(tmp(), 'engine.db');
  const db = openWriteDb(file);
  const store = new FlowStore(db, { timeoutS: 10, keepS: 5, featureNames: FEATURE_NAMES });
  store.writeRunMeta({ source: 'file:/tmp/x.pcapng', model: 'm', windowMs: 500 } satisfies RunMeta);
  store.apply(
    batch(T0 + 2, [startRec('f1', T0), windowRec('f1', T0, 20, true), windowRec('f1', T0 + 0.5, 30, false)]),
    0,
  );
  db.close();
  const reader = new SqliteReader(file);
  assert.equal(reader.read(ALL).ok, true);
  const windows = reader.recentWindows('f1', 10);
  reader.close();
  assert.equal(windows.length, 2);
  const names = Object.keys(windows[1].features);
  assert.deepEqual(names, [...FEATURE_NAMES]);
  assert.equal(windows[1].features[FEATURE_NAMES[0]], Math.round(30 * 1 * 1234.567) / 1000);
});
