import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveColumns } from '../../src/tui/columns';
import { overlayView, detailsLineCount, detailsLines } from '../../src/tui/overlays';
import { renderScreen } from '../../src/tui/render';
import { sparkline } from '../../src/tui/render-text';
import { update } from '../../src/tui/state';
import { flowRow, windowRows, T0 } from '../../src/testkit/fixture-db';
import { load, snapshot, state, type } from './helpers';

/** What the terminal would show: tags removed ({open}/{close} back to braces). */
function plain(lines: string[]): string[] {
  return lines.map((l) => l.replace(/\{\/?[a-z-]+\}/g, (t) => (t === '{open}' ? '{' : t === '{close}' ? '}' : '')));
}

const ROWS = [flowRow({ flow_id: 'a', app: 'te{am}s' }), flowRow({ flow_id: 'b', presence: 'background' })];

test('every line is exactly the terminal width, and the header shows exactly the columns asked', () => {
  const s = load(state({ width: 80, height: 24, columns: resolveColumns(['1', '0', 'srcIP', '15']) }), [
    ROWS[1],
    ROWS[0],
  ]);
  const lines = plain(renderScreen(s));
  assert.equal(lines.length, 24);
  for (const l of lines.slice(0, 4)) assert.equal(l.length, 80, JSON.stringify(l));
  assert.deepEqual(lines[1].trim().split(/\s+/), ['flowID', 'certainty', 'srcIP', 'presence']);
  assert.match(lines[2], /^b\s+90% 192\.168\.1\.\d+\s+background/, 'sorted by bytes, largest first');
  assert.match(lines[3], /^a .*person/);
});

test('text from the database is shown literally, not read as markup', () => {
  const s = load(state({ columns: resolveColumns(['app']) }), ROWS);
  const raw = renderScreen(s);
  assert.ok(raw.some((l) => l.includes('te{open}am{close}s')));
  assert.ok(plain(raw).some((l) => l.startsWith('te{am}s')));
});

test('columns that do not fit are dropped and said in the status bar', () => {
  const s = load(state({ width: 80, height: 24 }), ROWS);
  const lines = plain(renderScreen(s));
  const header = lines[1].trim().split(/\s+/);
  assert.equal(header[0], 'presence');
  const shown = resolveColumns([]);
  assert.ok(header.length >= 6 && header.length < shown.length);
  assert.match(
    lines[23],
    new RegExp(`${shown.length - header.length} col hidden \\(<- ->\\): ${shown[header.length].name}`),
  );
});

test('NO_COLOR: no colour tags at all, the selection still shows (inverse)', () => {
  const s = load(state({ color: false }), ROWS);
  const all = [...renderScreen(s), ...(overlayView(type(s, 'f256.1.1.1<enter>'))?.lines ?? [])].join('\n');
  assert.doesNotMatch(all, /-(fg|bg)\}/);
  assert.match(all, /\{inverse\}/);
  const colored = load(state({ color: true }), ROWS);
  assert.match(renderScreen(colored).join('\n'), /\{green-fg\}/, 'with colour the presence is coloured');
});

test('a flow whose camera is off shows camera-off, in yellow, with no certainty', () => {
  // a bigger flow first: the selected row is drawn inverse, not coloured
  const rows = [
    flowRow({ flow_id: 'big', bytes: 1e12 }),
    flowRow({ flow_id: 'c', presence: 'camera-off', certainty: null, probability: null }),
  ];
  const s = load(
    state({ width: 80, height: 24, color: true, columns: resolveColumns(['presence', 'certainty', 'flowID']) }),
    rows,
  );
  const raw = renderScreen(s);
  assert.ok(
    raw.some((l) => l.includes('{yellow-fg}camera-off')),
    raw.join('\n'),
  );
  assert.match(plain(raw)[3], /^camera-off\s+- c\b/);
});

test('a terminal smaller than the minimum gets a message instead of the table', () => {
  const s = load(state({ width: 30, height: 8 }), ROWS);
  const text = plain(renderScreen(s)).join('\n');
  assert.match(text, /Terminal too small: 30x8/);
  assert.match(text, /at least 40x10/);
  assert.doesNotMatch(text, /presence/);
});

test('an empty database shows the waiting-for-calls screen', () => {
  const s = update(state(), { type: 'data', snapshot: snapshot([], { packets: 10, flows: 2 }) });
  const text = plain(renderScreen(s)).join('\n');
  assert.match(text, /Waiting for calls/);
  assert.match(text, /10 packets and 2 flows seen so far/);
});

test('a filter that hides every row says so, with the hidden count', () => {
  const s = update(type(load(state(), ROWS), 'f1.2.3.4<enter><escape>'), {
    type: 'data',
    snapshot: snapshot([], undefined, 2),
    asked: true,
  });
  assert.match(plain(renderScreen(s)).join('\n'), /No flow matches the filter 1\.2\.3\.4 \(2 hidden\)/);
});

test("the sparklines show the selected flow's presence probability and bitrate over its windows", () => {
  let s = load(state({ width: 60, height: 20 }), [ROWS[1], ROWS[0]]);
  assert.equal(s.selectedId, 'b');
  s = update(s, {
    type: 'windows',
    flowId: 'b',
    rows: windowRows(8, T0, (i) => ({ probability: i / 7, bitrate: 1000 * (7 - i) })),
  });
  const lines = plain(renderScreen(s));
  assert.match(lines[15], /^-- b {2}/);
  assert.match(lines[16], /^P\(person\) ▁▂▃▄▅▆▇█ +0\.90$/);
  assert.match(lines[17], /^bitrate {3}█▇▆▅▄▃▂▁ +1\.2Mb\/s$/);
});

test('sparkline: last values win, blanks for missing, ASCII without UTF-8', () => {
  assert.equal(sparkline([0, 1, 2, 3, 4, 5, 6, 7], 4, 7, true), '▅▆▇█');
  assert.equal(sparkline([0, null, 7], 10, 7, true), '▁ █');
  assert.equal(sparkline([0, 7], 10, 7, false), '_#');
});

test('details list every column and the window history with features and predictions', () => {
  let s = load(state(), ROWS);
  s = update(s, { type: 'windows', flowId: s.selectedId as string, rows: windowRows(3, T0) });
  const lines = detailsLines(s, 200);
  assert.match(lines[0], /^ {2}0 certainty +90%$/);
  assert.match(lines[14], /^ 14 end +-$/);
  assert.ok(lines.some((l) => /raw P\(raw\) final P\(person\) cert +pkt_count size_mean iat_std$/.test(l)));
  assert.ok(
    lines.some((l) =>
      /^ {3}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d +41 +40100 +641kb\/s +1 +0\.80 +1 +0\.10 +80% +41 +1001 +0\.01230$/.test(l),
    ),
    lines.join('\n'),
  );
  assert.ok(lines.includes('   size_mean  1000.5'), 'the last window lists every feature in full');
  // the scroll bound counts the lines without formatting them: it must count the same
  assert.equal(detailsLineCount(s), lines.length);
  // the view formats only the lines it shows: any range is the same as cut from the whole
  for (const [from, to] of [
    [0, 5],
    [10, 22],
    [18, 30],
    [lines.length - 3, lines.length + 5],
    [0, Infinity],
  ]) {
    assert.deepEqual(detailsLines(s, 200, from, to), lines.slice(from, to), `lines ${from}-${to}`);
  }
  const noWindows = load(state(), ROWS);
  assert.equal(detailsLineCount(noWindows), detailsLines(noWindows, 200).length);
  const gone = { ...noWindows, selectedId: 'no-such-flow' };
  assert.equal(detailsLineCount(gone), detailsLines(gone, 200).length);
});

test('the status bar fits 80 columns: a long source is cut, the counters and the model stay; flags lead line 2', () => {
  let s = load(
    state({ width: 80, height: 24, sourceLabel: `file:/data/${'very-long-name-'.repeat(5)}call.pcapng` }),
    ROWS,
  );
  s = type(s, 'po');
  const lines = plain(renderScreen(s));
  assert.match(
    lines[22],
    /^ file:very-long-.*… 42% {2}1\.5k pkt\/s {2}drops 0 {2}flows 40 {2}calls 3 {2}model presence-rf$/,
  );
  assert.equal(lines[22].length, 80);
  assert.match(lines[23], /^ PAUSED \| FROZEN \| rows stay where they are \(o unfreezes\) \| rows 2 \| sort bytes/);
});

test('details view: blank rows for the charts from 80x24 on; below, the sparklines; the title fits the border', () => {
  let s = type(load(state({ width: 80, height: 24 }), ROWS), '<enter>');
  s = update(s, { type: 'windows', flowId: 'a', rows: windowRows(8, T0, (i) => ({ probability: i / 7 })) });
  const big = overlayView(s);
  assert.ok(big?.charts, 'the edge is told where to draw the charts');
  assert.deepEqual(big.lines.slice(0, 10), new Array(10).fill(''));
  assert.match(big.lines[10], /^ {2}0 certainty +90%/);
  assert.equal(big.lines.length, 22);
  s = update(s, { type: 'resize', width: 60, height: 20 });
  const small = overlayView(s);
  assert.ok(small && small.charts === undefined);
  const lines = plain(small.lines);
  assert.match(lines[0], /^ P\(person\) ▁▂▃▄▅▆▇█ +0\.90$/);
  assert.match(lines[1], /^ bitrate +[▁▂▃▄▅▆▇█]{8} +1\.2Mb\/s$/);
  assert.equal(lines[2], '');
  assert.match(lines[3], /^ {2}0 certainty +90%/);
  assert.ok(small.title.length <= 54, small.title);
  assert.match(small.title, /^Flow a 1-15\/\d+ /);
});
