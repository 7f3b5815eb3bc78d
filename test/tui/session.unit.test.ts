import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { COLUMNS, resolveColumns } from '../../src/tui/columns';
import type { LabelLine } from '../../src/tui/labels';
import { DbReader } from '../../src/tui/reader';
import { Session } from '../../src/tui/session';
import { fittedColumns, visibleRows } from '../../src/tui/selectors';
import type { UiEvent } from '../../src/tui/ui-state';
import type { FlowRow } from '../../src/store/view-types';
import { FixtureDb, flowRow, replayMeta, windowRows, T0 } from '../../src/testkit/fixture-db';

/** The UI without a terminal on a real SQLite database: filtering, sorting, search, pause. */

interface Rig {
  db: FixtureDb;
  session: Session;
  labels: LabelLine[];
  keys(text: string, now?: number): void;
}

function rig(t: { after(fn: () => void): void }, rows: FlowRow[], columns: string[] = [], fail = false): Rig {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-session-'));
  const db = new FixtureDb(path.join(dir, 'spymate.db')).meta(replayMeta()).flows(rows);
  const reader = new DbReader(db.file);
  const labels: LabelLine[] = [];
  const session = new Session(
    reader,
    {
      width: 120,
      height: 30,
      color: false,
      dim: false,
      unicode: true,
      refreshS: 1,
      sourceLabel: 'file:x',
      run: 1,
      modelName: 'm',
      labelsPath: path.join(dir, 'l.csv'),
      columns: resolveColumns(columns),
      patterns: [],
    },
    (lines) => {
      if (fail) throw new Error('EACCES: permission denied');
      labels.push(...lines);
    },
  );
  session.refresh();
  t.after(() => {
    reader.close();
    db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const keys = (text: string, now = 0): void => {
    const re = /<([A-Za-z-]+)>|([\s\S])/g;
    let m: RegExpExecArray | null;
    while ((m = re.exec(text))) {
      const e: UiEvent = m[1]
        ? { type: 'key', key: { name: m[1] }, now }
        : { type: 'key', key: { name: m[2], ch: m[2] }, now };
      session.dispatch(e);
    }
  };
  return { db, session, labels, keys };
}

function calls(): FlowRow[] {
  return [
    flowRow({ flow_id: 'a', bytes: 300, src_ip: '192.168.1.10', des_ip: '24.62.1.1', app: 'meet' }),
    flowRow({ flow_id: 'b', bytes: 200, src_ip: '192.168.1.11', des_ip: '8.8.8.8', app: 'zoom' }),
    flowRow({ flow_id: 'c', bytes: 100, src_ip: '10.1.3.4', des_ip: '2001:db8::9', app: 'teams', src_port: 47440 }),
  ];
}

test('the database sorts: by bytes by default, largest first; by any column asked', (t) => {
  const { session } = rig(t, calls());
  assert.deepEqual(session.state.view, ['a', 'b', 'c']);
  const app = fittedColumns(session.state).shown.find((c) => c.def.name === 'app');
  assert.ok(app);
  session.dispatch({ type: 'click', x: app.x + 1, y: 1, now: 0 }); // the "app" header
  assert.equal(session.state.sort.column.name, 'app');
  assert.deepEqual(session.state.view, ['a', 'c', 'b']);
  session.dispatch({ type: 'key', key: { name: 's', ch: 'S' }, now: 0 });
  assert.deepEqual(session.state.view, ['b', 'c', 'a']);
});

test('every column sorts in the database as its values read, missing values last both ways', (t) => {
  const rows = [
    flowRow({
      flow_id: 'p',
      first_ts: T0 + 5,
      last_ts: T0 + 50,
      media_ts: null,
      certainty: null,
      windows: 0,
      person_windows: 0,
      timeout_at: T0 + 130,
      probability: null,
    }),
    flowRow({
      flow_id: 'q',
      first_ts: T0 + 1,
      last_ts: T0 + 90,
      media_ts: T0 + 4,
      certainty: 60,
      windows: 10,
      person_windows: 9,
      timeout_at: T0 + 110,
      ended: 1,
      end_reason: 'fin',
    }),
    flowRow({
      flow_id: 'r',
      first_ts: T0 + 3,
      last_ts: T0 + 70,
      media_ts: T0 + 3.5,
      certainty: 95,
      windows: 10,
      person_windows: 2,
      timeout_at: T0 + 120,
    }),
  ];
  const { session } = rig(t, rows);
  const ctx = session.state.ctx;
  for (const col of COLUMNS) {
    for (const desc of [false, true]) {
      // every column, shown or not: set the sort as s/S/header clicks do, and let any event read again
      session.state = { ...session.state, sort: { column: col, desc }, queryVersion: session.state.queryVersion + 1 };
      session.dispatch({ type: 'resize', width: 120, height: 30 });
      const shown = session.state.view.map((id) => col.text(rows.find((r) => r.flow_id === id) as FlowRow, ctx));
      // an ended call has no `since`: it says so, and sorts with the missing values
      const missing = (v: string): boolean => v === '-' || (/^(remoteS|s)ince$/.test(col.name) && v === 'ended');
      const present = shown.filter((v) => !missing(v));
      const numeric = col.align === 'right';
      const duration = (v: string): number =>
        [...v.matchAll(/(\d+)([hms])/g)].reduce((t, [, n, u]) => t + Number(n) * { h: 3600, m: 60, s: 1 }[u]!, 0);
      const val = (v: string): number | string =>
        /^\d{4}-/.test(v)
          ? Date.parse(v)
          : /^\d+[hm]\d|^\d+s$/.test(v)
            ? duration(v)
            : numeric
              ? parseFloat(v.replace(/[^0-9.-]/g, ''))
              : v;
      const sorted = present.slice().sort((x, y) => (val(x) < val(y) ? -1 : val(x) > val(y) ? 1 : 0));
      if (desc) sorted.reverse();
      assert.deepEqual(present, sorted, `${col.name} ${desc ? 'desc' : 'asc'}: ${shown.join(' | ')}`);
      assert.deepEqual(shown.slice(present.length).every(missing), true, `${col.name}: missing values last`);
    }
  }
});

test('a wildcard in the Filter dialog shows only matching flows; totals stay whole; Clear all', (t) => {
  const { session, keys } = rig(t, calls());
  keys('f24.62.*<enter>');
  assert.deepEqual(session.state.view, ['a']);
  assert.equal(session.state.snapshot.total, 3);
  keys('2001:db8::/32<enter>');
  assert.deepEqual(session.state.view, ['a', 'c']);
  keys('<tab><tab><tab><enter><escape>');
  assert.deepEqual(session.state.view, ['a', 'b', 'c']);
});

test('/ finds a flow by address, app or port (by part of its digits) as you type', (t) => {
  const { session, keys } = rig(t, calls());
  keys('/tea');
  assert.equal(session.state.selectedId, 'c');
  keys('<escape>/8.8.8<enter>');
  assert.equal(session.state.selectedId, 'b');
  keys('/4744<enter>');
  assert.equal(session.state.selectedId, 'c', 'a port is found by part of its digits: 4744 finds 47440');
  keys('/3478<enter>n');
  assert.equal(session.state.selectedId, 'a', 'every flow has port 3478: n goes on to the next, wrapping');
});

test('pause keeps the rows on screen as they were while the database changes', (t) => {
  const { db, session, keys } = rig(t, calls());
  keys('p');
  db.flows([{ ...calls()[0], bytes: 5e9 }, flowRow({ flow_id: 'new', bytes: 9e9 })]);
  assert.equal(session.refresh(), true);
  assert.deepEqual(session.state.view, ['a', 'b', 'c']);
  assert.equal(session.state.rows.get('a')?.bytes, 300);
  keys('p');
  assert.deepEqual(session.state.view, ['new', 'a', 'b', 'c']);
  assert.equal(session.state.rows.get('a')?.bytes, 5e9);
});

test('only the rows on screen are read, and scrolling reads the ones that come into sight', (t) => {
  const many = Array.from({ length: 500 }, (_, i) =>
    flowRow({ flow_id: `f${String(i).padStart(3, '0')}`, bytes: 1e6 - i }),
  );
  const { session, keys } = rig(t, many);
  assert.equal(session.state.view.length, 500);
  assert.equal(session.state.rows.size, 23);
  keys('<end>');
  assert.equal(session.state.selectedId, 'f499');
  assert.deepEqual(
    visibleRows(session.state)
      .map((r) => r.flow_id)
      .slice(-2),
    ['f498', 'f499'],
  );
  assert.equal(session.refresh(), false, 'nothing committed: no read');
});

test('a mark closes when its flow ends, even off screen; a labels file that fails is said', (t) => {
  const { db, session, labels, keys } = rig(t, calls());
  keys('1');
  db.meta({ clock: T0 + 150 }).flows([{ ...calls()[0], ended: 1, end_reason: 'fin', last_ts: T0 + 140 }]);
  session.refresh();
  assert.deepEqual(labels, [{ start: T0 + 100, end: T0 + 140, label: 'person' }]);
  const failing = rig(t, calls(), [], true);
  failing.keys('0');
  failing.db.meta({ clock: T0 + 110 });
  failing.session.refresh();
  failing.keys('x');
  assert.match(failing.session.state.message ?? '', /^labels not saved \(EACCES[^)]*\); --out FILE .*l\.csv$/);
});

test('the sparkline loads a screen width of windows; the details view the whole history', (t) => {
  const { db, session, keys } = rig(t, calls());
  db.windows('a', windowRows(300, T0));
  session.refresh();
  assert.equal(session.state.windowsFor, 'a');
  assert.equal(session.state.windows.length, 120);
  keys('<enter>');
  assert.equal(session.state.windows.length, 300);
  assert.equal(session.state.windows[299].start, T0 + 299 * 0.5, 'oldest first, newest last');
});
