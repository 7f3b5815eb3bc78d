import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TuiOptions } from '../../src/tui/app';
import { FixtureDb, flowRow, replayMeta, windowRows, T0 } from '../../src/testkit/fixture-db';
import { hasTmux, Tmux } from '../../src/testkit/tmux';

/** The TUI in a real terminal: tmux at fixed sizes, on a database the test fills and changes. */

const skip = hasTmux() ? false : 'tmux is not installed';

interface Setup {
  term: Tmux;
  db: FixtureDb;
  opts: TuiOptions;
}

function threeCalls(db: FixtureDb): void {
  const rows = [
    flowRow({ flow_id: 'call-a', src_ip: '192.168.1.10', des_ip: '24.62.1.1', bytes: 3e6 }),
    flowRow({
      flow_id: 'call-b',
      src_ip: '192.168.1.11',
      des_ip: '8.8.8.8',
      bytes: 2e6,
      presence: 'background',
      certainty: 71,
    }),
    flowRow({ flow_id: 'call-c', src_ip: '10.1.3.4', des_ip: '24.62.9.9', bytes: 1e6 }),
  ];
  db.meta(replayMeta())
    .flows(rows)
    .windows(
      'call-a',
      windowRows(120, T0, (i) => ({ probability: (i % 20) / 19 })),
    );
}

async function open(
  t: { after(fn: () => void): void },
  over: Partial<TuiOptions> = {},
  size = { width: 120, height: 30 },
  env: Record<string, string> = {},
  fill: (db: FixtureDb) => void = threeCalls,
): Promise<Setup> {
  const term = new Tmux();
  const db = new FixtureDb(path.join(term.dir, 'spymate.db'));
  fill(db);
  const opts: TuiOptions = {
    dbPath: db.file,
    refreshS: 0.2,
    columns: [],
    filters: [],
    sourceLabel: 'file:call.pcapng',
    run: 1,
    labelsPath: path.join(term.dir, 'call.labels.csv'),
    modelName: 'presence-rf',
    ...over,
  };
  t.after(() => {
    db.close();
    term.kill();
  });
  term.start(opts, size, env);
  return { term, db, opts };
}

const COLOR_SGR = /\x1b\[[0-9;]*(?:3[0-7]|4[0-7]|9[0-7]|10[0-7]|[34]8;5;\d+)m/;

const rowsShown = (screen: string): string[] =>
  (screen.match(/call-[a-z]+/g) ?? []).filter((id, i, all) => all.indexOf(id) === i).sort();

test('the columns given are exactly the ones shown, in that order', { skip }, async (t) => {
  const { term } = await open(t, { columns: ['0', '1', '2', '3', 'presence'] });
  await term.waitFor(/call-a/);
  assert.deepEqual(term.lines()[1].trim().split(/\s+/), ['certainty', 'flowID', 'srcIP', 'srcPort', 'local', 'cam']);
});

test('a wildcard typed into the Filter dialog hides and shows the right rows', { skip }, async (t) => {
  const { term } = await open(t, { columns: ['flowID', 'srcIP', 'desIP'] });
  await term.waitFor(/call-c/);
  term.keys('f');
  await term.waitFor(/Pattern:/);
  term.type('24.62.*');
  term.keys('Enter');
  await term.waitFor((s) => / > 24\.62\.\*/.test(s) && !s.includes('call-b'));
  term.keys('Escape');
  const filtered = await term.waitFor((s) => !s.includes('Pattern:'));
  assert.deepEqual(rowsShown(filtered.split('\n').slice(2, 20).join('\n')), ['call-a', 'call-c']);
  assert.match(
    filtered,
    /filter 24\.62\.\* \(2\/3 calls\)/,
    'the status bar says the filter and keeps the whole count',
  );
  // a bad pattern is refused in the dialog with the reason
  term.keys('f');
  term.type('24.62');
  term.keys('Enter');
  await term.waitFor(/4 parts; end a shorter one with \*/);
  // Clear all shows every row again
  term.keys('C-u', 'Tab', 'Tab', 'Tab', 'Enter', 'Escape');
  const all = await term.waitFor((s) => !s.includes('Pattern:') && s.includes('call-b'));
  assert.deepEqual(rowsShown(all), ['call-a', 'call-b', 'call-c']);
});

test('the mouse opens the Tools menu, its Filter dialog, and selects rows', { skip }, async (t) => {
  const { term } = await open(t, { columns: ['flowID', 'srcIP', 'desIP'] });
  await term.waitFor(/call-c/);
  term.click(2, 0);
  await term.waitFor(/Filter by address/);
  term.click(4, 2);
  await term.waitFor(/Pattern:/);
  term.keys('Escape');
  await term.waitFor((s) => !s.includes('Pattern:'));
  term.click(3, 4);
  await term.waitFor(/^-- call-c: /m);
});

test('the sparkline of the selected flow is drawn, and the details view opens', { skip }, async (t) => {
  const { term } = await open(t);
  const screen = await term.waitFor(/P\(person\) +[ ▁▂▃▄▅▆▇█]{20,}/);
  assert.match(
    screen,
    /^-- call-a: last 50s, 0\.5 s a column; P 0-1, bitrate 0-759kb\/s -- 192\.168\.1\.10:\d+ <-> 24\.62\.1\.1:3478 -+$/m,
    'whose, over what span, on what scale',
  );
  assert.match(screen, /^bitrate +[ ▁▂▃▄▅▆▇█]{20,}/m);
  term.keys('Enter');
  const details = await term.waitFor(/Flow call-a/);
  assert.match(details, /0 certainty +90%/);
  assert.match(details, /13 ringTime +1\.5/);
  term.keys('End');
  await term.waitFor(/Features of the last window/);
  term.keys('Escape');
  await term.waitFor((s) => !s.includes('Flow call-a'));
});

const BRAILLE = /[\u2801-\u28ff]/g;
const braille = (lines: string[], from: number, to: number, x0: number, x1: number): number =>
  lines.slice(from, to).reduce((n, l) => n + ([...l].slice(x0, x1).join('').match(BRAILLE) ?? []).length, 0);

test(
  'the details view draws blessed-contrib line charts of P(person) and the bitrate at 80x24',
  { skip },
  async (t) => {
    const { term } = await open(t, {}, { width: 80, height: 24 });
    await term.waitFor(/call-a/);
    assert.equal(term.text().match(BRAILLE), null, 'no chart on the main screen');
    term.keys('Enter');
    const screen = await term.waitFor((s) => /Flow call-a/.test(s) && (s.match(BRAILLE) ?? []).length > 40);
    const lines = screen.split('\n');
    // the two chart boxes, side by side under the details border, their titles in their top borders
    assert.match(lines[1], /^│┌─ P\(person\), final prediction 0\/1 ─+┐┌─ bitrate, kb\/s ─+┐│$/);
    assert.match(lines[10], /^│└─+┘└─+┘│$/);
    const chart = lines.slice(2, 10);
    // y axes: P(person) on 0..1 in quarters, the bitrate (640-760 kb/s) on round steps
    for (const label of ['1.00', '0.75', '0.50', '0.25'])
      assert.ok(
        chart.some((l) => l.startsWith(`││ ${label}⡇`)),
        `y label ${label}`,
      );
    assert.ok(chart.some((l) => / 800 ⡇/.test(l)) && chart.some((l) => / 400 ⡇/.test(l)), 'bitrate y labels');
    // x axis: the windows' times (TZ=UTC: T0 is 22:13:20)
    assert.ok(
      chart.some((l) => /^││ +22:13:20 +22:13:\d\d.*││ +22:13:20 /.test(l)),
      chart.join('\n'),
    );
    assert.ok(braille(lines, 2, 10, 7, 40) > 30, 'the P(person) line is drawn');
    assert.ok(braille(lines, 2, 10, 45, 79) > 20, 'the bitrate line is drawn');
    assert.match(lines[11], /^│ {2}0 certainty +90%/, 'the details text follows under the charts');
    // the charts stay while the text scrolls, and go with the details view
    term.keys('PageDown');
    await term.waitFor((s) => /Flow call-a 11-/.test(s) && s.split('\n')[1].includes('P(person), final'));
    term.keys('Escape');
    const main = await term.waitFor((s) => !s.includes('Flow call-a'));
    assert.equal(main.match(BRAILLE), null);
  },
);

test(
  'the details charts honour NO_COLOR; below 80x24 the details view shows the sparklines instead',
  { skip },
  async (t) => {
    const plain = await open(t, {}, { width: 100, height: 30 }, { NO_COLOR: '1' });
    await plain.term.waitFor(/call-a/);
    plain.term.keys('Enter');
    await plain.term.waitFor((s) => (s.match(BRAILLE) ?? []).length > 40);
    assert.doesNotMatch(plain.term.lines(true).join('\n'), COLOR_SGR);
    const colored = await open(t, {}, { width: 100, height: 30 });
    await colored.term.waitFor(/call-a/);
    colored.term.keys('Enter');
    await colored.term.waitFor((s) => (s.match(BRAILLE) ?? []).length > 40);
    assert.match(
      colored.term.lines(true).slice(2, 12).join('\n'),
      /\x1b\[[0-9;]*32m[\u2801-\u28ff]/,
      'P(person) is drawn in green',
    );
    const small = await open(t, {}, { width: 60, height: 20 });
    await small.term.waitFor(/call-a/);
    small.term.keys('Enter');
    const details = await small.term.waitFor(/Flow call-a/);
    assert.equal(details.match(BRAILLE), null);
    assert.match(details.split('\n')[1], /^│ P\(person\) [ ▁▂▃▄▅▆▇█]{20,} +0\.90│$/);
    // growing the terminal brings the charts in
    small.term.resize(90, 26);
    await small.term.waitFor((s) => /┌─ P\(person\), final prediction/.test(s) && (s.match(BRAILLE) ?? []).length > 40);
  },
);

test('pause freezes the table while the database changes; resume catches up', { skip }, async (t) => {
  const { term, db } = await open(t, { columns: ['flowID', 'bytes'] });
  await term.waitFor(/call-c/);
  db.flows([flowRow({ flow_id: 'call-d', bytes: 9e6 })]);
  await term.waitFor(/call-d/);
  term.keys('p');
  await term.waitFor(/PAUSED/);
  db.flows([flowRow({ flow_id: 'call-e', bytes: 8e6 })]).deleteFlow('call-b');
  await term.holds((s) => !s.includes('call-e') && s.includes('call-b'), 1000);
  term.keys('p');
  const resumed = await term.waitFor((s) => s.includes('call-e') && !s.includes('call-b'));
  assert.doesNotMatch(resumed, /PAUSED/);
});

test('live labelling writes a labels file the trainer can read', { skip }, async (t) => {
  const { term, db, opts } = await open(t);
  await term.waitFor(/call-a/);
  term.keys('1');
  await term.waitFor(/MARK person since 22:15:00/);
  db.meta({ clock: T0 + 112.5 });
  await new Promise((r) => setTimeout(r, 400));
  term.keys('0');
  await term.waitFor(/MARK background since 22:15:12/);
  db.meta({ clock: T0 + 120 });
  await new Promise((r) => setTimeout(r, 400));
  term.keys('q');
  await term.waitFor(/EXIT=0/);
  const file = opts.labelsPath as string;
  assert.equal(
    fs.readFileSync(file, 'utf8'),
    'start,end,label\n1700000100.000,1700000112.500,person\n1700000112.500,1700000120.000,background\n',
  );
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
});

test('resizing re-lays out: fewer columns at 80x24, a message when too small, back again', { skip }, async (t) => {
  const { term } = await open(t);
  await term.waitFor(/call-a/);
  const wide = term.lines()[1].trim().split(/\s+/).length;
  term.resize(80, 24);
  const narrow = await term.waitFor(
    (s) => s.split('\n')[1].trim().split(/\s+/).length < wide && /col hidden \(<- ->\)/.test(s),
  );
  const lines = narrow.split('\n');
  assert.equal(lines.length, 24);
  assert.match(lines[23], /col hidden \(<- ->\)/);
  assert.match(lines[7], /^-- call-a: last /, 'the charts sit under the three calls, and take the height left');
  assert.match(lines[22], /^ file:call.* 42% /);
  term.resize(30, 8);
  await term.waitFor(/30x8, needs 40x10/);
  term.resize(100, 26);
  await term.waitFor((s) => s.includes('call-a') && !s.includes('too small'));
});

test('quitting leaves the terminal clean: normal screen, cursor shown, mouse off', { skip }, async (t) => {
  const { term } = await open(t);
  await term.waitFor(/call-a/);
  assert.equal(term.display('#{alternate_on}'), '1', 'the UI runs on the alternate screen');
  term.keys('q');
  const after = await term.waitFor(/EXIT=0/);
  assert.match(after, /^spymate-tui test entry: exited$/m);
  assert.doesNotMatch(after, /call-a/);
  assert.equal(term.display('#{alternate_on} #{cursor_flag} #{mouse_any_flag} #{mouse_sgr_flag}'), '0 1 0 0');
});

test('Ctrl-C quits too', { skip }, async (t) => {
  const { term } = await open(t);
  await term.waitFor(/call-a/);
  term.keys('C-c');
  await term.waitFor(/EXIT=0/);
  assert.equal(term.display('#{alternate_on} #{cursor_flag}'), '0 1');
});

test('a labels file that cannot be written is said in the status bar, and the UI goes on', { skip }, async (t) => {
  const { term, db } = await open(t, { labelsPath: '/nonexistent-dir/call.labels.csv' });
  await term.waitFor(/call-a/);
  term.keys('1');
  await term.waitFor(/MARK person/);
  db.meta({ clock: T0 + 110 });
  await new Promise((r) => setTimeout(r, 400));
  term.keys('x');
  await term.waitFor(
    /labels not saved \(ENOENT\); --out FILE puts them beside FILE: \/nonexistent-dir\/call\.labels\.csv/,
  );
  term.keys('Down');
  await term.waitFor(/^-- call-b: /m);
});

test('SIGTERM quits like q: open labels are closed and the terminal is left clean', { skip }, async (t) => {
  const { term, db, opts } = await open(t);
  await term.waitFor(/call-a/);
  term.keys('0');
  await term.waitFor(/MARK background since/);
  db.meta({ clock: T0 + 105 });
  await new Promise((r) => setTimeout(r, 400));
  process.kill(term.programPid(), 'SIGTERM');
  await term.waitFor(/EXIT=0/);
  assert.equal(term.display('#{alternate_on} #{cursor_flag}'), '0 1');
  assert.match(
    fs.readFileSync(opts.labelsPath as string, 'utf8'),
    /^start,end,label\n1700000100\.000,1700000105\.000,background\n$/,
  );
});

test('NO_COLOR turns colour off; without it presence is coloured', { skip }, async (t) => {
  const plain = await open(t, {}, { width: 120, height: 30 }, { NO_COLOR: '1' });
  await plain.term.waitFor(/call-a/);
  const escPlain = plain.term.lines(true).join('\n');
  assert.doesNotMatch(escPlain, COLOR_SGR);
  assert.match(escPlain, /\x1b\[[0-9;]*7m/, 'the selection is still shown, in inverse');
  const colored = await open(t);
  await colored.term.waitFor(/call-a/);
  assert.match(colored.term.lines(true).join('\n'), COLOR_SGR);
});

test('a terminal smaller than the minimum gets a message', { skip }, async (t) => {
  const { term } = await open(t, {}, { width: 36, height: 9 });
  const screen = await term.waitFor(/Terminal too small:/);
  assert.match(screen, /36x9, needs 40x10\./);
  assert.match(screen, /press q to quit/);
  assert.doesNotMatch(screen, /call-a/);
});

test('an empty database shows "waiting for calls", then the calls when they come', { skip }, async (t) => {
  const { term, db } = await open(t, {}, { width: 80, height: 24 }, {}, (d) =>
    d.meta(replayMeta({ packets: 5000, flows: 12, calls: 0 })),
  );
  const waiting = await term.waitFor(/Waiting for calls/);
  assert.match(waiting, /5000 packets and 12 flows seen so far/);
  db.flows([flowRow({ flow_id: 'call-z' })]);
  await term.waitFor((s) => s.includes('call-z') || /person +\d+%/.test(s));
  assert.doesNotMatch(term.text(), /Waiting for calls/);
});

test('without a terminal the UI refuses and points to --headless', () => {
  const r = spawnSync(
    process.execPath,
    [
      path.resolve(__dirname, '../../src/testkit/run-tui.js'),
      JSON.stringify({
        dbPath: '/nonexistent.db',
        refreshS: 1,
        columns: [],
        filters: [],
        sourceLabel: 'x',
        run: 1,
        labelsPath: null,
        modelName: 'm',
      }),
    ],
    {
      encoding: 'utf8',
      timeout: 10000,
    },
  );
  assert.equal(r.status, 2);
  assert.match(r.stderr, /needs a terminal.*--headless/);
  assert.equal(r.stderr.trim().split('\n').length, 1);
});

const ROOT = path.resolve(__dirname, '../../..');
const TRACE = path.join(ROOT, 'test/fixtures/calls/office-vp8.pcapng.gz');
const BIN = path.join(ROOT, 'dist/src/cli/spymate-tui.js');

test(
  'the real spymate-tui on a replayed trace shows the call with the columns asked, and quits cleanly',
  {
    skip: skip || (!fs.existsSync(TRACE) && 'no recorded call in test/fixtures/calls'),
  },
  async (t) => {
    const term = new Tmux();
    t.after(() => term.kill());
    // run as root the monitor drops to nobody, who must be able to reach its database
    fs.chmodSync(term.dir, 0o755);
    const db = path.join(term.dir, 'replay.db');
    term.run(
      [
        process.execPath,
        BIN,
        '-f',
        TRACE,
        '--speed',
        '20',
        '--db',
        db,
        '--refresh',
        '0.2',
        '1',
        '15',
        'srcIP',
        '--columns',
        'protocol,packets',
      ],
      { width: 100, height: 24 },
    );
    const screen = await term.waitFor(/[0-9a-f]{16} +\S+ +\d+\.\d+\.\d+\.\d+ +UDP/, 15000);
    assert.deepEqual(screen.split('\n')[1].trim().split(/\s+/), [
      'flowID',
      'local',
      'cam',
      'srcIP',
      'protocol',
      'packets',
    ]);
    assert.match(
      screen,
      /file:office-vp8\.pcapng\.gz( \d+%)? @\d\d:\d\d:\d\d +[\d.]+k? pkt\/s +drops 0 +\d+ flows? seen/,
    );
    assert.match(screen, / 1 call \|/);
    term.keys('q');
    const after = await term.waitFor(/EXIT=0/, 15000);
    assert.match(after, /spymate-tui: \d+ packets, 0 dropped, \d+ flows?, [1-9]\d* calls?/);
    assert.equal(term.display('#{alternate_on} #{cursor_flag}'), '0 1');
  },
);

test(
  'live labelling through the real spymate-tui writes <out>.labels.csv beside the records',
  {
    skip: skip || (!fs.existsSync(TRACE) && 'no recorded call in test/fixtures/calls'),
  },
  async (t) => {
    const term = new Tmux();
    t.after(() => term.kill());
    fs.chmodSync(term.dir, 0o755);
    const out = path.join(term.dir, 'call.ndjson');
    term.run(
      [
        process.execPath,
        BIN,
        '-f',
        TRACE,
        '--speed',
        '2',
        '--db',
        path.join(term.dir, 'l.db'),
        '--out',
        out,
        '--refresh',
        '0.2',
      ],
      { width: 100, height: 24 },
    );
    await term.waitFor(/^-- [0-9a-f]{16}: /m, 15000);
    term.keys('1');
    await new Promise((r) => setTimeout(r, 1500));
    term.keys('0');
    await new Promise((r) => setTimeout(r, 1500));
    term.keys('q');
    await term.waitFor(/EXIT=0/, 15000);
    const labels = path.join(term.dir, 'call.labels.csv');
    const lines = fs.readFileSync(labels, 'utf8').trim().split('\n');
    assert.equal(lines[0], 'start,end,label');
    assert.match(lines[1], /^\d+\.\d{3},\d+\.\d{3},person$/);
    assert.match(lines[2], /^\d+\.\d{3},\d+\.\d{3},background$/);
    assert.equal(fs.statSync(labels).mode & 0o777, 0o600);
  },
);
