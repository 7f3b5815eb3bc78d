/**
 * The PostgreSQL store's schema versions: a database of an older version is upgraded in place by
 * db/postgres/migrations, keeping its rows. On a throwaway cluster (initdb); skipped without PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/migrate';
import { SensorStore } from '../../src/store/pg/sensor-store';
import { pgBinDir, startCluster, type PgCluster } from '../../src/testkit/postgres';
import { sensorOptions } from '../../src/testkit/sensors';
import { batch, startRec } from '../../src/testkit/records';
import { tempDir } from '../../src/testkit/temp';

const skip = pgBinDir()
  ? false
  : 'PostgreSQL not found (apt-get install postgresql; or set SPYMATE_PG_BIN): the PostgreSQL store is not tested';

let pg: PgCluster;
before(async () => {
  if (!skip) pg = await startCluster('migrate');
});
after(() => pg?.destroy());

const options = (sensor: string) =>
  sensorOptions(pg.url, sensor, {
    timeoutS: 10,
    keepS: 1e9,
    budget: { memoryBytes: 1 << 20, diskBytes: 0, spoolDir: tempDir('spool') },
    drainMs: 20000,
    warn: () => undefined,
  });

test('a version-1 database gets the call certainty and reason columns, and keeps its rows', { skip }, async () => {
  const first = await SensorStore.open(options('old'));
  first.apply(batch(1700000005, [startRec('f1', 1700000000)]), 0);
  await first.close();
  // back to what version 1 had
  await pg.query('ALTER TABLE flows DROP COLUMN call_certainty, DROP COLUMN call_reason');
  await pg.query('UPDATE spymate_schema SET version = 1');

  const store = await SensorStore.open(options('new'));
  const classified = { ...startRec('f2', 1700000010), callCertainty: 0.8, callReason: 'classifier: P(call) 0.80' };
  store.apply(batch(1700000015, [classified]), 0);
  await store.close();
  const versions = await pg.query<{ version: number }>('SELECT version FROM spymate_schema ORDER BY version');
  assert.deepEqual(
    versions.map((v) => v.version),
    [1, PG_SCHEMA_VERSION],
  );
  const rows = await pg.query<{ flow_id: string; call_certainty: number | null; call_reason: string | null }>(
    'SELECT flow_id, call_certainty, call_reason FROM flows ORDER BY flow_id',
  );
  assert.deepEqual(
    rows.map((r) => ({ ...r })),
    [
      { flow_id: 'f1', call_certainty: null, call_reason: null },
      { flow_id: 'f2', call_certainty: 0.8, call_reason: 'classifier: P(call) 0.80' },
    ],
  );
});
