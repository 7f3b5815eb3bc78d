import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FEATURE_NAMES } from '../../src/features/names';
import { PgView } from '../../src/store/pg/view';
import { rowKey } from '../../src/store/view-types';
import { parsePgUrl } from '../../src/store/pg/target';
import type { LiveRecord } from '../../src/store/types';
import { pgBinDir, startCluster, type PgCluster } from '../../src/testkit/postgres';
import { startRec, windowRec } from '../../src/testkit/records';
import { storeRun } from '../../src/testkit/sensors';
import { COLUMNS, columnByName } from '../../src/tui/columns';
import { parsePattern } from '../../src/tui/filter';
import { viewQueryToPg } from '../../src/tui/remote-reader';

const T0 = 1700000000;
const skip = pgBinDir()
  ? false
  : 'PostgreSQL not found (apt-get install postgresql; or set SPYMATE_PG_BIN): the view is not tested';

let pg: PgCluster;
before(async () => {
  if (skip) return;
  pg = await startCluster('view');
  // two sensors; each flow's addresses say which it is. c's local camera turns to background at
  // T0+2 (its remote one to a person: windowRec's remote side is the other way round), and a@paris's
  // remote side stops its video at T0+1
  const flows: Array<[string, string, string, string]> = [
    ['berlin-1', 'a', '10.1.2.3', '192.0.2.7'],
    ['berlin-1', 'b', '2001:db8::5', '2001:db8:1::9'],
    ['paris', 'c', '172.16.0.9', '198.51.100.20'],
    ['paris', 'a', '::ffff:10.9.9.9', '203.0.113.1'],
  ];
  for (const sensor of ['berlin-1', 'paris']) {
    const recs: LiveRecord[] = [];
    for (const [s, id, src, des] of flows) {
      if (s !== sensor) continue;
      const at = (r: LiveRecord): LiveRecord => ({ ...r, srcIP: src, desIP: des });
      recs.push(at(startRec(id, T0)));
      for (let i = 0; i < 6; i++) {
        const w = windowRec(id, T0 + i * 0.5, id === 'b' ? 90 : 10 + i, !(id === 'c' && i >= 4));
        if (sensor === 'paris' && id === 'a' && i >= 2)
          Object.assign(w, { remotePresence: 'no video', remoteProbability: null, remoteCertainty: null });
        recs.push(at(w));
      }
    }
    await storeRun(pg.url, sensor, recs, T0 + 4);
  }
});
after(() => pg?.destroy());

async function shown(patterns: string[], sort = 'flowID', desc = false): Promise<string[]> {
  const view = new PgView(parsePgUrl(pg.url));
  try {
    const q = viewQueryToPg({
      run: null,
      patterns: patterns.map((p) => parsePattern(p, true)),
      sort: { column: columnByName(sort)!, desc },
    });
    const snap = await view.snapshot(q.filter, q.order);
    assert.equal(snap.problem, null);
    assert.equal(snap.total, 4);
    return snap.order;
  } finally {
    await view.close();
  }
}

test(
  'the view filters by address pattern, prefix and sensor name in the server, as the UI does over SQLite',
  { skip },
  async () => {
    assert.deepEqual(await shown([]), ['a@berlin-1', 'a@paris', 'b@berlin-1', 'c@paris']);
    assert.deepEqual(await shown(['10.*']), ['a@berlin-1', 'a@paris'], 'IPv4 wildcard, ::ffff:-mapped too');
    assert.deepEqual(await shown(['172.16.0.0/12']), ['c@paris']);
    assert.deepEqual(await shown(['2001:db8::/32']), ['b@berlin-1']);
    assert.deepEqual(await shown(['203.0.113.1']), ['a@paris']);
    assert.deepEqual(await shown(['berlin*']), ['a@berlin-1', 'b@berlin-1']);
    assert.deepEqual(await shown(['PARIS', '2001:db8::/32']), ['a@paris', 'b@berlin-1', 'c@paris'], 'patterns add up');
    assert.deepEqual(await shown(['ber_in*']), [], "a sensor pattern's _ is a character, not LIKE's wildcard");
  },
);

test('every column sorts in PostgreSQL, and sorts as its values do', { skip }, async () => {
  for (const c of COLUMNS) {
    const order = await shown([], c.name, true);
    assert.equal(order.length, 4, c.name);
  }
  assert.deepEqual((await shown([], 'bytes', true))[0], 'b@berlin-1');
  assert.deepEqual(await shown([], 'sensor'), ['a@berlin-1', 'b@berlin-1', 'a@paris', 'c@paris']);
  // both cameras and since when, as PostgreSQL keeps them (ties by sensor, then flow)
  assert.deepEqual(await shown([], 'since'), ['c@paris', 'a@berlin-1', 'b@berlin-1', 'a@paris']);
  assert.deepEqual(await shown([], 'remoteSince'), ['c@paris', 'a@paris', 'a@berlin-1', 'b@berlin-1']);
  assert.deepEqual(await shown([], 'remotePresence'), ['a@berlin-1', 'b@berlin-1', 'a@paris', 'c@paris']);
  assert.deepEqual(await shown([], 'remoteCertainty'), ['a@berlin-1', 'b@berlin-1', 'c@paris', 'a@paris']);
});

test(
  'rows carry their sensor and its clock; windows their features by name; search finds sensors',
  { skip },
  async () => {
    const view = new PgView(parsePgUrl(pg.url));
    try {
      const rows = await view.rows(['b@berlin-1', 'a@paris']);
      assert.deepEqual(rows.map((r) => [r.flow_id, r.sensor, r.sensor_clock, r.ended, r.windows]).sort(), [
        ['a', 'paris', T0 + 4, 0, 6],
        ['b', 'berlin-1', T0 + 4, 0, 6],
      ]);
      const wins = await view.windows('b@berlin-1', 4, true);
      assert.deepEqual(
        wins.map((w) => w.start),
        [T0 + 1, T0 + 1.5, T0 + 2, T0 + 2.5],
      );
      assert.equal(wins[0].presence, 1);
      assert.deepEqual(Object.keys(wins[0].features), [...FEATURE_NAMES]);
      assert.deepEqual(Object.keys((await view.windows('b@berlin-1', 4, false))[0].features), []);
      assert.deepEqual((await view.search('pari')).sort(), ['a@paris', 'c@paris']);
      assert.deepEqual(await view.search('2001:db8:1::9'), ['b@berlin-1']);
      // a port by its digits, as SQLite's search does (500 finds port 5000)
      assert.equal((await view.search('500')).length, (await view.search('5000')).length);
      assert.ok((await view.search('500')).length > 0);
    } finally {
      await view.close();
    }
  },
);

test('the columns of both cameras and since when show what the sensors stored', { skip }, async () => {
  const view = new PgView(parsePgUrl(pg.url));
  try {
    const rows = await view.rows(['c@paris', 'a@paris', 'a@berlin-1']);
    const ctx = { monitorStart: null, clock: null };
    const cells = (key: string): string[] => {
      const r = rows.find((x) => rowKey(x) === key)!;
      return ['presence', 'since', 'remotePresence', 'remoteSince', 'remoteCertainty', 'run'].map((n) =>
        columnByName(n)!.text(r, ctx),
      );
    };
    // the sensors' clock is T0+4
    assert.deepEqual(cells('c@paris'), ['background', '2s', 'person', '2s', '70%', '-']);
    assert.deepEqual(cells('a@paris'), ['person', '4s', 'no video', '3s', '-', '-']);
    assert.deepEqual(cells('a@berlin-1'), ['person', '4s', 'background', '4s', '70%', '-']);
    const wins = await view.windows('c@paris', 3, false);
    assert.deepEqual(
      wins.map((w) => [w.presence, w.remote_presence, w.remote_probability]),
      [
        [1, 0, 0.2],
        [0, 1, 0.7],
        [0, 1, 0.7],
      ],
    );
    assert.deepEqual(
      (await view.windows('a@paris', 6, false)).map((w) => w.remote_presence),
      [0, 0, null, null, null, null],
    );
  } finally {
    await view.close();
  }
});

test('a database no sensor has written to yet: the view says it waits', { skip }, async () => {
  pg.psql('CREATE DATABASE empty');
  const view = new PgView(parsePgUrl(pg.url.replace(/\/spymate$/, '/empty')));
  try {
    const q = viewQueryToPg({ run: null, patterns: [], sort: { column: COLUMNS[1], desc: false } });
    const snap = await view.snapshot(q.filter, q.order);
    assert.equal(snap.ok, false);
    assert.match(
      snap.problem ?? '',
      /waiting for a sensor to create the tables in postgres:\/\/spymate@127\.0\.0\.1:\d+\/empty/,
    );
  } finally {
    await view.close();
  }
});
