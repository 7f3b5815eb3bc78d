import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { nullDeviceIn } from '../../src/testkit/null-device';
import { tempDir } from '../../src/testkit/temp';
import { UserError } from '../../src/util/errors';
import { featureValues } from '../../src/store/features-blob';
import { migrationFiles, openWriteDb, SCHEMA_VERSION } from '../../src/store/migrate';

function tmpFile(name = 'spymate.db'): string {
  return path.join(tempDir('mig'), name);
}

function columns(db: Database.Database): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const t of ['meta', 'flows', 'windows']) {
    out[t] = (
      db.prepare(`PRAGMA table_info(${t})`).all() as Array<{ name: string; type: string; pk: number; notnull: number }>
    ).map((c) => `${c.name} ${c.type} pk${c.pk} nn${c.notnull}`);
  }
  return out;
}

function v1Database(file: string): void {
  const db = new Database(file);
  db.exec(fs.readFileSync(migrationFiles().get(1)!, 'utf8'));
  db.prepare(
    "INSERT INTO flows (flow_id, app, src_ip, src_port, des_ip, des_port, protocol, first_ts, last_ts, timeout_at, updated_at) VALUES ('old', 'zoom', '10.0.0.1', 1, '10.0.0.2', 2, 'UDP', 1, 2, 3, 4)",
  ).run();
  db.prepare(
    `INSERT INTO windows (flow_id, start, end, packets, bytes, bitrate, features) VALUES ('old', 1, 1.5, 3, 300, 4800, '{"in_packets":1,"out_packets":2}')`,
  ).run();
  db.close();
}

test('db/schema.sql equals the migrations applied in order', () => {
  const fresh = openWriteDb(tmpFile());
  const file = tmpFile();
  v1Database(file);
  const upgraded = openWriteDb(file);
  assert.deepEqual(columns(upgraded), columns(fresh));
  assert.equal(upgraded.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  fresh.close();
  upgraded.close();
});

test('an old (version 1) database is upgraded and keeps its rows', () => {
  const file = tmpFile();
  v1Database(file);
  const db = openWriteDb(file);
  const row = db.prepare('SELECT flow_id, app FROM flows').get() as { flow_id: string; app: string };
  assert.deepEqual({ ...row }, { flow_id: 'old', app: 'zoom' });
  assert.ok(columns(db).windows.some((c) => c.startsWith('certainty ')));
  const w = db.prepare('SELECT packets, features, certainty FROM windows').get() as {
    packets: number;
    features: Buffer;
    certainty: null;
  };
  assert.deepEqual(
    { ...w, features: [...featureValues(w.features)] },
    { packets: 3, features: [1, 2], certainty: null },
  );
  db.close();
});

test('a version-2 database is upgraded: JSON feature arrays become float64 bytes, nulls NaN, row order kept', () => {
  const file = tmpFile();
  const v2 = new Database(file);
  v2.exec(fs.readFileSync(migrationFiles().get(1)!, 'utf8'));
  v2.exec(fs.readFileSync(migrationFiles().get(2)!, 'utf8'));
  v2.pragma('user_version = 2');
  const put = v2.prepare(
    'INSERT INTO windows (flow_id, start, end, packets, bytes, bitrate, features, certainty) VALUES (?, ?, ?, 3, 300, 4800, ?, 80)',
  );
  put.run('b', 2, 2.5, '[0.25,null,-3e-7,123456.789]');
  put.run('a', 1, 1.5, '[]');
  v2.close();
  const db = openWriteDb(file);
  const rows = db
    .prepare('SELECT flow_id, typeof(features) AS t, features, certainty FROM windows ORDER BY rowid')
    .all() as Array<{ flow_id: string; t: string; features: Buffer; certainty: number }>;
  assert.deepEqual(
    rows.map((r) => [r.flow_id, r.t, [...featureValues(r.features)], r.certainty]),
    [
      ['b', 'blob', [0.25, NaN, -3e-7, 123456.789], 80],
      ['a', 'blob', [], 80],
    ],
  );
  db.close();
});

test('a newer database is refused with a clear line', () => {
  const file = tmpFile();
  const db = new Database(file);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  assert.throws(
    () => openWriteDb(file),
    (e: unknown) =>
      e instanceof UserError && /newer than this spymate knows/.test(e.message) && e.message.includes(file),
  );
});

test('a corrupt file is refused with a clear line', () => {
  const file = tmpFile();
  fs.writeFileSync(file, 'this is not a database, just text that is long enough to fill a header page '.repeat(80));
  assert.throws(
    () => openWriteDb(file),
    (e: unknown) => e instanceof UserError && /not a spymate database or corrupt/.test(e.message),
  );
});

test('a device or a named pipe as --db is refused in one line, left as it was, with nothing beside it', () => {
  const dir = tempDir('mig-special');
  const fifo = path.join(dir, 'pipe');
  assert.equal(spawnSync('mkfifo', ['-m', '644', fifo]).status, 0);
  const special = [fifo];
  if (process.getuid?.() === 0) {
    special.push(nullDeviceIn(dir));
  }
  for (const f of special) {
    const mode = fs.statSync(f).mode;
    assert.throws(
      () => openWriteDb(f),
      (e: unknown) =>
        e instanceof UserError &&
        e.message === `${f}: not a regular file; --db needs a database file path (e.g. ./spymate.db)`,
    );
    assert.equal(fs.statSync(f).mode, mode, `${f}: mode kept`);
  }
  assert.deepEqual(
    fs.readdirSync(dir).sort(),
    special.map((f) => path.basename(f)).sort(),
    'no journal or WAL left beside them',
  );
});

test('a database locked by another program is refused with a clear line', async () => {
  const file = tmpFile();
  openWriteDb(file).close();
  // Another process holds an exclusive lock while we try.
  const holder =
    `const D=require(${JSON.stringify(require.resolve('better-sqlite3'))});const d=new D(${JSON.stringify(file)});` +
    `d.pragma('locking_mode = EXCLUSIVE');d.exec('BEGIN EXCLUSIVE');process.stdout.write('locked\\n');setTimeout(()=>{},8000);`;
  const child = spawn(process.execPath, ['-e', holder], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (c: Buffer) => c.toString().includes('locked') && resolve());
      child.on('exit', () => reject(new Error('lock holder exited')));
    });
    assert.throws(
      () => openWriteDb(file),
      (e: unknown) => e instanceof UserError && /locked by another program/.test(e.message),
    );
  } finally {
    child.kill();
  }
});
