import { test } from 'node:test';
import assert from 'node:assert/strict';
import { drain, fittedColumns, selectedRow, update } from '../../src/tui/state';
import type { UiState } from '../../src/tui/ui-state';
import { applyFreeze } from '../../src/tui/table';
import { resolveColumns } from '../../src/tui/columns';
import { detailsLines, dialogRect } from '../../src/tui/overlays';
import type { FlowRow } from '../../src/tui/types';
import { flowRow, replayMeta, windowRows, T0 } from '../../src/testkit/fixture-db';
import { ids, load, snapshot, state, type } from './helpers';

/** UI state as a pure function of events: no database, no terminal (session.test.ts has those). */

function rows(): FlowRow[] {
  return [
    flowRow({ flow_id: 'a', bytes: 300, src_ip: '192.168.1.10', des_ip: '24.62.1.1' }),
    flowRow({ flow_id: 'b', bytes: 200, src_ip: '192.168.1.11', des_ip: '8.8.8.8', app: 'zoom' }),
    flowRow({ flow_id: 'c', bytes: 100, src_ip: '10.1.3.4', des_ip: '24.62.9.9' }),
  ];
}

function loaded(r = rows()): UiState {
  return load(state(), r);
}

function order(s: UiState, o: string[], meta = replayMeta()): UiState {
  return update(s, { type: 'data', snapshot: snapshot(o, meta) });
}

test('the table shows the database order and selects the first row', () => {
  const s = loaded();
  assert.deepEqual(ids(s), ['a', 'b', 'c']);
  assert.equal(s.selectedId, 'a');
  assert.equal(selectedRow(s)?.bytes, 300);
});

test('the selection stays on the same flow ID when the rows change order', () => {
  let s = type(loaded(), '<down>');
  assert.equal(s.selectedId, 'b');
  s = order(s, ['d', 'a', 'c', 'b']);
  assert.equal(s.selectedId, 'b');
});

test('when the selected flow leaves, the selection stays at its place', () => {
  let s = type(loaded(), '<down>');
  s = order(s, ['a', 'c']);
  assert.equal(s.selectedId, 'c');
});

test('arrows, PgUp/PgDn, Home/End move the selection and scroll it into view', () => {
  const many = Array.from({ length: 100 }, (_, i) => `f${String(i).padStart(3, '0')}`);
  let s = order(state(), many);
  s = type(s, '<end>');
  assert.equal(s.selectedId, 'f099');
  assert.equal(s.top, 100 - 23, 'the last row sits at the bottom of the 23-row table');
  s = type(s, '<home><pagedown>');
  assert.equal(s.selectedId, 'f023');
  s = type(s, '<up><up><pageup>');
  assert.equal(s.selectedId, 'f000');
  s = type(s, '<up>');
  assert.equal(s.selectedId, 'f000', 'stops at the top');
});

test('s cycles the sort through the shown columns and asks the database again; S reverses', () => {
  let s = loaded();
  assert.equal(s.sort.column.name, 'bytes');
  const v0 = s.queryVersion;
  s = type(s, 's');
  assert.equal(s.sort.column.name, 'presence', 'bytes is not shown at 120 columns: start at the first shown');
  s = type(s, 'ss');
  assert.equal(s.sort.column.name, 'app');
  assert.equal(s.sort.desc, false, 'text sorts ascending first');
  s = type(s, 'S');
  assert.equal(s.sort.desc, true);
  assert.equal(s.queryVersion, v0 + 4);
});

test('o freezes the order: rows stay put, new flows go to the end; o again follows the database', () => {
  let s = type(loaded(), 'o');
  s = order(s, ['z', 'c', 'a', 'b']);
  assert.deepEqual(ids(s), ['a', 'b', 'c', 'z']);
  s = order(s, ['z', 'c', 'b']);
  assert.deepEqual(ids(s), ['b', 'c', 'z'], 'a flow that left leaves the frozen order too');
  s = type(s, 'o');
  assert.deepEqual(ids(s), ['z', 'c', 'b']);
});

test('applyFreeze keeps the frozen order, appends new IDs, and drops IDs no longer shown', () => {
  assert.deepEqual(applyFreeze(['c', 'b', 'a'], null), { view: ['c', 'b', 'a'], frozen: null });
  assert.deepEqual(applyFreeze(['x', 'c', 'a'], ['a', 'b', 'c']), {
    view: ['a', 'c', 'x'],
    frozen: ['a', 'b', 'c', 'x'],
  });
});

test('p pauses: reads wait while the table stays; resume applies the latest', () => {
  let s = type(loaded(), 'p');
  assert.equal(s.paused, true);
  s = order(s, ['new'], replayMeta({ packets: 999999 }));
  assert.deepEqual(ids(s), ['a', 'b', 'c']);
  assert.equal(s.pending?.meta.packets, 999999, 'the status bar stays live');
  s = update(s, { type: 'data', snapshot: snapshot(['c', 'b', 'a']), asked: true });
  assert.deepEqual(ids(s), ['c', 'b', 'a'], 'a new sort or filter is shown even while paused');
  s = order(s, ['new']);
  s = type(s, 'p');
  assert.deepEqual(ids(s), ['new']);
});

test('/ jumps to the rows the database found as you type; n finds the next', () => {
  let s = type(loaded(), '/zoo');
  assert.equal(s.searchInput, 'zoo');
  s = update(s, { type: 'searchHits', term: 'zo', ids: ['b', 'c'] });
  assert.equal(s.selectedId, 'a', 'hits for an older term are not jumped to');
  s = update(s, { type: 'searchHits', term: 'zoo', ids: ['b'] });
  assert.equal(s.selectedId, 'b');
  s = type(s, '<escape>/24.62');
  s = update(s, { type: 'searchHits', term: '24.62', ids: ['a', 'c'] });
  s = type(s, '<enter>');
  assert.equal(s.overlay, 'none');
  assert.equal(s.selectedId, 'c', 'from b the next row with 24.62 is c');
  s = type(s, 'n');
  assert.equal(s.selectedId, 'a', 'wraps around');
  s = type(s, '/nomatch');
  s = update(s, { type: 'searchHits', term: 'nomatch', ids: [] });
  assert.match(s.message ?? '', /no flow matches 'nomatch'/);
});

test('the filter dialog adds patterns and asks the database again; Remove and Clear all', () => {
  let s = type(loaded(), 'f24.62.*<enter>');
  assert.equal(s.overlay, 'filter');
  assert.deepEqual(
    s.patterns.map((p) => p.text),
    ['24.62.*'],
  );
  assert.equal(s.queryVersion, 1);
  s = type(s, '192.168.1.11<enter>');
  assert.deepEqual(
    s.patterns.map((p) => p.text),
    ['24.62.*', '192.168.1.11'],
  );
  s = type(s, '<up><delete>');
  assert.deepEqual(
    s.patterns.map((p) => p.text),
    ['192.168.1.11'],
  );
  s = type(s, '<tab><tab><tab><enter>');
  assert.equal(s.dialog.focus, 'clear');
  assert.deepEqual(s.patterns, []);
  assert.equal(s.queryVersion, 4);
  s = type(s, '<escape>');
  assert.equal(s.overlay, 'none');
});

test('a bad pattern is refused in the dialog with the reason, and nothing changes', () => {
  const s = type(loaded(), 'f24.62<enter>');
  assert.equal(s.overlay, 'filter');
  assert.match(s.dialog.error ?? '', /^an IPv4 address has 4 parts/);
  assert.deepEqual(s.patterns, []);
  assert.equal(s.queryVersion, 0);
  assert.equal(s.dialog.input, '24.62', 'the text stays to be corrected');
  assert.equal(type(s, '.*').dialog.error, null, 'typing clears the error');
});

test('Enter opens the details of the selected flow, which scroll within bounds; ? opens help', () => {
  let s = type(loaded(), '<down><enter>');
  assert.equal(s.overlay, 'details');
  assert.equal(selectedRow(s)?.flow_id, 'b');
  s = update(s, { type: 'windows', flowId: 'b', rows: windowRows(100, T0) });
  s = type(s, '<pagedown>');
  // 120x30: 28 rows inside the border, 12 of them charts; a page is the 16 text rows less 2 kept
  assert.equal(s.detailsScroll, 14);
  s = type(s, '<end><down><down>');
  const max = s.detailsScroll;
  assert.ok(max > 100, 'scrolls to the last window and the feature list');
  assert.equal(max, detailsLines(s, 118).length - 16, 'the last line ends at the bottom of the text under the charts');
  s = type(s, '<up>');
  assert.equal(s.detailsScroll, max - 1, 'scrolling past the end does not pile up');
  s = type(s, '<escape>?');
  assert.equal(s.overlay, 'help');
  s = type(s, 'x');
  assert.equal(s.overlay, 'none');
});

test('1 and 0 label the selected flow: each mark closes the one before into a labels line', () => {
  let s = type(loaded(), '1', T0 + 5);
  let [fx] = drain(s);
  assert.deepEqual(fx, []);
  assert.deepEqual(
    s.marks,
    [{ flowId: 'a', label: 'person', since: T0 + 100 }],
    'on replay the mark is at the packet clock',
  );
  s = load(s, rows(), replayMeta({ clock: T0 + 130 }));
  s = type(s, '0');
  [fx, s] = drain(s);
  assert.deepEqual(fx, [{ kind: 'label', line: { start: T0 + 100, end: T0 + 130, label: 'person' } }]);
  s = load(s, rows(), replayMeta({ clock: T0 + 150 }));
  s = type(s, 'q');
  [fx, s] = drain(s);
  assert.deepEqual(fx, [
    { kind: 'label', line: { start: T0 + 130, end: T0 + 150, label: 'background' } },
    { kind: 'quit' },
  ]);
  assert.equal(s.quit, true);
});

test('live, marks use the wall clock; a mark on a flow that ends closes at its last packet', () => {
  const live = replayMeta({ source: 'iface:eth0', clock: 1 });
  let s = load(state(), rows(), live);
  s = type(s, '1', T0 + 7);
  assert.equal(s.marks[0].since, T0 + 7);
  const r = rows();
  r[0].ended = 1;
  r[0].last_ts = T0 + 20;
  s = load(s, r, live);
  const [fx] = drain(s);
  assert.deepEqual(fx, [{ kind: 'label', line: { start: T0 + 7, end: T0 + 20, label: 'person' } }]);
  assert.deepEqual(s.marks, []);
});

test('x stops marking without a new label; Ctrl-C quits from anywhere', () => {
  let s = type(loaded(), '1', 0);
  s = load(s, rows(), replayMeta({ clock: T0 + 101 }));
  s = type(s, 'x');
  const [fx] = drain(s);
  assert.equal(fx.length, 1);
  assert.deepEqual(s.marks, []);
  const q = type(type(loaded(), 'f'), '<C-c>');
  assert.equal(q.quit, true);
});

test('mouse: a click selects a row, a header click sorts, Tools opens the menu and its items act', () => {
  let s = loaded();
  s = update(s, { type: 'click', x: 5, y: 4, now: 0 });
  assert.equal(s.selectedId, 'c', 'row 3 of the table is on screen line 4');
  s = update(s, { type: 'click', x: 1, y: 1, now: 0 });
  assert.equal(s.sort.column.name, 'presence');
  s = update(s, { type: 'click', x: 2, y: 0, now: 0 });
  assert.equal(s.overlay, 'menu');
  s = update(s, { type: 'click', x: 4, y: 2, now: 0 });
  assert.equal(s.overlay, 'filter', 'the first item is the Filter dialog');
});

test('a resize keeps the selection on screen', () => {
  const many = Array.from({ length: 60 }, (_, i) => `f${String(i).padStart(3, '0')}`);
  let s = type(order(state(), many), '<down>'.repeat(20));
  assert.equal(s.top, 0);
  s = update(s, { type: 'resize', width: 80, height: 12 });
  assert.equal(s.selectedId, 'f020');
  assert.ok(s.top <= 20 && 20 < s.top + 5, `row 20 visible in the 5-row table (top ${s.top})`);
});

test('the Filter dialog works by mouse: the field, Add, a pattern of the list, Remove, Close', () => {
  let s = type(loaded(), 'f10.0.0.0/8');
  const r = dialogRect(s);
  const at = (cx: number, cy: number): UiState =>
    update(s, { type: 'click', x: r.x + 1 + cx, y: r.y + 1 + cy, now: 0 });
  s = at(2, 3); // [ Add ]
  assert.deepEqual(
    s.patterns.map((p) => p.text),
    ['10.0.0.0/8'],
  );
  s = type(s, '24.62.*<enter>');
  s = at(4, 5); // the first pattern of the list
  assert.equal(s.dialog.selected, 0);
  s = at(12, 3); // [ Remove ]
  assert.deepEqual(
    s.patterns.map((p) => p.text),
    ['24.62.*'],
  );
  s = at(40, 3); // [ Close ]
  assert.equal(s.overlay, 'none');
});

test('the Tools menu by keys: t opens, arrows move, Enter acts, Esc closes; the wheel scrolls', () => {
  let s = type(loaded(), 't<down><down><down><enter>');
  assert.notEqual(s.frozen, null, 'the fourth item freezes the order');
  s = type(s, 't<up><escape>');
  assert.equal(s.overlay, 'none');
  s = update(s, { type: 'wheel', delta: 3 });
  assert.equal(s.selectedId, 'c');
});

test('Left/Right scroll the columns that did not fit; the first column stays', () => {
  let s = load(state({ width: 80, height: 24 }), rows());
  const names = (x: UiState): string[] => fittedColumns(x).shown.map((c) => c.def.name);
  const start = names(s);
  assert.deepEqual(start.slice(0, 3), ['presence', 'certainty', 'app']);
  s = type(s, '<right>');
  assert.deepEqual(names(s).slice(0, 3), ['presence', 'app', 'srcIP']);
  assert.equal(fittedColumns(s).hidden[0].name, 'certainty', 'scrolled past counts as hidden');
  s = type(s, '<right>'.repeat(40));
  assert.equal(names(s)[names(s).length - 1], resolveColumns([]).at(-1)!.name, 'stops with the last column on screen');
  s = type(s, '<left>'.repeat(40));
  assert.deepEqual(names(s), start);
});

test('the details of a call say why it is one: the rule, or the call classifier with its certainty', () => {
  const r = [
    flowRow({ flow_id: 'r', bytes: 2e9 }),
    flowRow({
      flow_id: 'c',
      app: 'call',
      bytes: 1e9,
      call_certainty: 0.87,
      call_reason: 'classifier: P(call) 0.87; pps 48, symmetry 0.93',
    }),
  ];
  const rule = type(loaded(r), '<enter>');
  assert.ok(detailsLines(rule, 118).some((l) => /why a call: rules\/90-webrtc\.rules:11$/.test(l)));
  assert.ok(detailsLines(rule, 118).some((l) => /callCertainty\s+100%$/.test(l)));
  const learnt = type(loaded(r), '<down><enter>');
  assert.ok(detailsLines(learnt, 118).some((l) => /why a call: classifier: P\(call\) 0\.87; pps 48/.test(l)));
  assert.ok(detailsLines(learnt, 118).some((l) => /callCertainty\s+87%$/.test(l)));
  const old = type(loaded([flowRow({ flow_id: 'o', call_certainty: null, call_reason: null })]), '<enter>');
  assert.ok(detailsLines(old, 118).some((l) => /why a call: not recorded/.test(l)));
});
