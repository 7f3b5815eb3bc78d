/**
 * The PostgreSQL store's schema versions: a database of an older version is upgraded in place by
 * db/postgres/migrations, keeping its rows. On a throwaway cluster (initdb); skipped without PostgreSQL.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Client } from 'pg';
import { featureBytes, featureValues } from '../../src/store/features-blob';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/migrate';
import { SensorStore } from '../../src/store/pg/sensor-store';
import { parsePgUrl } from '../../src/store/pg/target';
import { pgBinDir, startCluster, type PgCluster } from '../../src/testkit/postgres';
import { sensorOptions } from '../../src/testkit/sensors';
import { batch, startRec, windowRec } from '../../src/testkit/records';
import { tempDir } from '../../src/testkit/temp';

const skip = pgBinDir()
  ? false
  : 'PostgreSQL not found (apt-get install postgresql; or set SPYMATE_PG_BIN): the PostgreSQL store is not tested';

let pg: PgCluster;
before(async () => {
  if (!skip) pg = await startCluster('migrate');
});
after(() => pg?.destroy());

const options = (sensor: string, url = pg.url) =>
  sensorOptions(url, sensor, {
    timeoutS: 10,
    keepS: 1e9,
    budget: { memoryBytes: 1 << 20, diskBytes: 0, spoolDir: tempDir('spool') },
    drainMs: 20000,
    warn: () => undefined,
  });

/** The columns of flows and windows, in order, with their types, nullability and defaults. */
async function columns(url: string): Promise<string[]> {
  const client = new Client(parsePgUrl(url).config);
  await client.connect();
  try {
    const r = await client.query<Record<string, string>>(
      `SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns
       WHERE table_name IN ('flows', 'windows') ORDER BY table_name, ordinal_position`,
    );
    // and the storage options (flows keeps room on its pages for HOT updates)
    const o = await client.query<{ relname: string; reloptions: string[] | null }>(
      "SELECT relname, reloptions FROM pg_class WHERE relname IN ('flows', 'windows') ORDER BY relname",
    );
    return [
      ...r.rows.map((c) => Object.values(c).join(' ')),
      ...o.rows.map((c) => `${c.relname} ${(c.reloptions ?? []).join(',')}`),
    ];
  } finally {
    await client.end();
  }
}

test(
  'a version-1 database gets the columns added since, keeps its rows, and ends as a new one is',
  { skip },
  async () => {
    const first = await SensorStore.open(options('old'));
    first.apply(batch(1700000005, [startRec('f1', 1700000000), windowRec('f1', 1700000000, 10, true)]), 0);
    await first.close();
    // back to what version 1 had
    await pg.query(
      'ALTER TABLE flows DROP COLUMN call_certainty, DROP COLUMN call_reason, DROP COLUMN presence_since, ' +
        'DROP COLUMN remote_presence, DROP COLUMN remote_probability, DROP COLUMN remote_certainty, DROP COLUMN remote_since',
    );
    await pg.query('ALTER TABLE windows DROP COLUMN remote_presence, DROP COLUMN remote_probability');
    await pg.query(
      'ALTER TABLE windows ALTER COLUMN features TYPE double precision[] USING spymate_features(features); ' +
        'DROP FUNCTION spymate_features(bytea); DROP FUNCTION spymate_float8le(bytea, integer)',
    );
    await pg.query('UPDATE spymate_schema SET version = 1');

    const store = await SensorStore.open(options('new'));
    const classified = { ...startRec('f2', 1700000010), callCertainty: 0.8, callReason: 'classifier: P(call) 0.80' };
    store.apply(batch(1700000015, [classified, windowRec('f2', 1700000010, 10, true)]), 0);
    await store.close();
    const versions = await pg.query<{ version: number }>('SELECT version FROM spymate_schema ORDER BY version');
    assert.deepEqual(
      versions.map((v) => v.version),
      [1, 2, 3, PG_SCHEMA_VERSION],
    );
    const rows = await pg.query<Record<string, unknown>>(
      `SELECT flow_id, call_certainty, call_reason, presence_since, remote_presence, remote_probability, remote_since
     FROM flows ORDER BY flow_id`,
    );
    assert.deepEqual(
      rows.map((r) => ({ ...r })),
      [
        {
          flow_id: 'f1',
          call_certainty: null,
          call_reason: null,
          presence_since: null,
          remote_presence: 'unknown',
          remote_probability: null,
          remote_since: null,
        },
        {
          flow_id: 'f2',
          call_certainty: 0.8,
          call_reason: 'classifier: P(call) 0.80',
          presence_since: 1700000010,
          remote_presence: 'background',
          remote_probability: 0.2,
          remote_since: 1700000010,
        },
      ],
    );
    const wins = await pg.query<Record<string, unknown>>(
      'SELECT flow_id, remote_presence, remote_probability FROM windows ORDER BY flow_id',
    );
    // version 4: the array became SQLite's bytes, value for value
    const [old] = await pg.query<{ features: Buffer }>("SELECT features FROM windows WHERE flow_id = 'f1'");
    assert.deepEqual(featureValues(old.features), windowRec('f1', 1700000000, 10, true).features);
    assert.deepEqual(
      wins.map((w) => ({ ...w })),
      [
        { flow_id: 'f1', remote_presence: 'unknown', remote_probability: null },
        { flow_id: 'f2', remote_presence: 'background', remote_probability: 0.2 },
      ],
    );

    // db/postgres/schema.sql is the migrations applied in order: a new database has the same columns
    pg.psql('CREATE DATABASE fresh');
    const freshUrl = pg.url.replace(/\/spymate$/, '/fresh');
    await (await SensorStore.open(options('fresh', freshUrl))).close();
    const migrated = await columns(pg.url);
    assert.deepEqual(migrated, await columns(freshUrl));
    assert.ok(migrated.includes('flows fillfactor=50'), migrated.join('\n'));
  },
);

test('spymate_features() reads the stored bytes back as the numbers they were, in SQL', { skip }, async () => {
  await (await SensorStore.open(options('sql'))).close();
  const odd = [
    -0,
    0,
    Infinity,
    -Infinity,
    NaN,
    5e-324,
    2 ** -1022,
    Number.MAX_VALUE,
    0.1,
    -123.456,
    2 ** 53 + 2,
    1e300,
  ];
  const [r] = await pg.query<{ a: number[]; empty: number[] }>(
    "SELECT spymate_features($1) AS a, spymate_features(''::bytea) AS empty",
    [featureBytes(Float64Array.from(odd))],
  );
  assert.equal(r.a.length, odd.length);
  odd.forEach((x, i) => assert.ok(Object.is(r.a[i], x), `element ${i}: ${r.a[i]} for ${x}`));
  assert.deepEqual(r.empty, []);
});
