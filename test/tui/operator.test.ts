import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import type { TuiOptions } from '../../src/tui/app';
import { projectRoot } from '../../src/rules/paths';
import { FixtureDb, flowRow, replayMeta, T0 } from '../../src/testkit/fixture-db';
import { sameAddressCall } from '../../src/testkit/same-address';
import { tempDir } from '../../src/testkit/temp';
import { hasTmux, Tmux } from '../../src/testkit/tmux';
import { writeTwoCalls } from '../live/call-trace';
import { readDb } from '../live/run-cli';

/**
 * The monitor as an operator reads it, in a real terminal: the real spymate-tui on real and made
 * traces, each test named for what the screen must show.
 */

const BIN = path.join(projectRoot(), 'dist', 'src', 'cli', 'spymate-tui.js');
const CALLS = path.join(projectRoot(), 'test', 'fixtures', 'calls');
const KITCHEN = path.join(CALLS, 'kitchen-h264.pcapng.gz');
const OFFICE = path.join(CALLS, 'office-vp8.pcapng.gz');
const noTmux = hasTmux() ? false : 'tmux is not installed';
const noCalls = !fs.existsSync(KITCHEN) || !fs.existsSync(OFFICE) ? 'no recorded calls in test/fixtures/calls' : false;
const SIZE = { width: 120, height: 30 };

/** A directory the monitor can still reach after it drops root (to nobody, or the sudo user). */
function reachableDir(name: string): string {
  const dir = tempDir(name);
  fs.chmodSync(dir, 0o755);
  return dir;
}

function terminal(t: { after(fn: () => void): void }): Tmux {
  const term = new Tmux();
  t.after(() => term.kill());
  return term;
}

/** The table's rows: the lines between the header and the charts' title. */
function tableRows(screen: string): string[] {
  const lines = screen.split('\n');
  const end = lines.findIndex((l, i) => i > 1 && l.startsWith('-- '));
  return lines.slice(2, end < 0 ? undefined : end).filter((l) => l.trim() !== '');
}

test(
  'two replays in a row into one database: the second shows only its own call, and the counts match the rows',
  { skip: noTmux || noCalls, timeout: 90_000 },
  async (t) => {
    const dir = reachableDir('two-replays');
    const db = path.join(dir, 'shared.db');
    const columns = ['flowID', 'presence', 'remotePresence', 'since'];
    const first = terminal(t);
    first.run(
      [process.execPath, BIN, '-f', KITCHEN, '--speed', 'max', '--db', db, '--refresh', '0.2', ...columns],
      SIZE,
    );
    await first.waitFor(/ done @/, 30_000);
    first.keys('q');
    await first.waitFor(/EXIT=0/, 15_000);
    const earlier = readDb(db).flows.map((f) => String(f.flow_id));
    assert.ok(earlier.length >= 1);

    const second = terminal(t);
    second.run(
      [process.execPath, BIN, '-f', OFFICE, '--speed', 'max', '--db', db, '--refresh', '0.2', ...columns],
      SIZE,
    );
    const screen = await second.waitFor(/ done @/, 30_000);
    const rows = tableRows(screen);
    for (const id of earlier) assert.doesNotMatch(screen, new RegExp(id), `the first replay's ${id} is not shown`);
    const mine = readDb(db).flows.filter((f) => !earlier.includes(String(f.flow_id)));
    assert.equal(rows.length, mine.length, rows.join('\n'));
    assert.ok(rows.every((r) => mine.some((f) => r.startsWith(String(f.flow_id)))));
    // the replay is over: its calls ended with the trace, dimmed and saying so; the counts are the rows'
    assert.ok(
      rows.every((r) => /\bended$/.test(r.trimEnd())),
      rows.join('\n'),
    );
    const n = mine.length;
    assert.match(screen, new RegExp(` ${n} calls? \\(${n} ended\\) \\|`));
    second.keys('q');
    await second.waitFor(/EXIT=0/, 15_000);
    // history stays in the file, on purpose: --db alone shows every run's calls
    const history = terminal(t);
    history.run([process.execPath, BIN, '--db', db, '--refresh', '0.2', ...columns, 'run'], SIZE);
    const all = await history.waitFor(/every run's calls \(history\)/, 15_000);
    assert.equal(tableRows(all).length, earlier.length + n);
    history.keys('q');
    await history.waitFor(/EXIT=0/, 15_000);
  },
);

test(
  'an ended call is dimmed, says ended, and leaves the table after --keep while the other goes on',
  { skip: noTmux, timeout: 60_000 },
  async (t) => {
    const dir = reachableDir('keep');
    // call A (to 192.0.2.10) stops after 8 s, ends by media stop 5 s later and leaves 10 s after its
    // last packet; B (to 192.0.2.20) goes on to 24 s
    const trace = writeTwoCalls(path.join(dir, 'two.pcap'), 24, 8);
    const term = terminal(t);
    term.run(
      [
        process.execPath,
        BIN,
        '-f',
        trace,
        '--speed',
        '3',
        '--keep',
        '10',
        '--db',
        path.join(dir, 'k.db'),
        '--refresh',
        '0.2',
        'desIP',
        'since',
        'presence',
      ],
      SIZE,
      // grey needs 16 colours: with tmux's default 8 the word 'ended' alone says it
      { TERM: 'xterm-256color' },
    );
    const ended = await term.waitFor((s) => /^192\.0\.2\.10 +ended /m.test(s) && /^192\.0\.2\.20 +\d/m.test(s), 30_000);
    assert.match(ended, / 2 calls \(1 ended\) \|/);
    const a = term.lines(true).find((l) => l.includes('192.0.2.10'));
    assert.match(a ?? '', /\x1b\[(90|38;5;8)m/, 'the ended row is grey');
    // --keep after its last packet A is gone; B is still there
    const after = await term.waitFor((s) => !s.includes('192.0.2.10') && /^192\.0\.2\.20 /m.test(s), 20_000);
    assert.match(after, / 1 call \|/);
    term.keys('q');
    await term.waitFor(/EXIT=0/, 15_000);
  },
);

test(
  'a call whose peers share an address: both cameras shown, the details view swaps the sides, --local ADDR:PORT names ours',
  { skip: noTmux || noCalls, timeout: 90_000 },
  async (t) => {
    const dir = reachableDir('same-address');
    const trace = path.join(dir, 'same.pcapng');
    // kitchen-h264 with both peers on 127.0.0.1; the callee (B) sends no media and starts the call
    const { callerPort, calleePort } = await sameAddressCall(KITCHEN, '10.77.13.1', '10.77.13.2', trace);
    const columns = ['srcPort', 'desPort', 'presence', 'remotePresence', 'since'];
    const row = (screen: string): string => tableRows(screen)[0] ?? '';
    // tall enough for the details view to show every column and the line about the sides
    const TALL = { width: 120, height: 64 };

    // by address and initiator alone the callee looks local: its camera is 'no video', the caller's is judged
    const guess = terminal(t);
    guess.run(
      [
        process.execPath,
        BIN,
        '-f',
        trace,
        '--speed',
        '8',
        '--db',
        path.join(dir, 'a.db'),
        '--refresh',
        '0.2',
        ...columns,
      ],
      TALL,
    );
    const wrong = await guess.waitFor(
      (s) => new RegExp(`^ *${calleePort} +${callerPort} no video +(person|background) `).test(row(s)),
      30_000,
    );
    assert.match(wrong, /^srcPort desPort local cam +remote cam +since/m, 'the headers say whose camera');
    guess.keys('Enter');
    await guess.waitFor(/Flow [0-9a-f]{16}/);
    await guess.waitFor(new RegExp(`3 srcPort +${calleePort}`));
    guess.keys('s');
    const swapped = await guess.waitFor(/seen from its other side \(s swaps back\)/);
    assert.match(swapped, new RegExp(`3 srcPort +${callerPort}`));
    assert.match(swapped, /15 presence +(person|background)/);
    assert.match(swapped, /\d+ remotePresence +no video/);
    guess.keys('Escape');
    await guess.waitFor((s) =>
      new RegExp(`^ *${callerPort} +${calleePort} (person|background) +no video `).test(row(s)),
    );
    guess.keys('q');

    // --local names the caller's endpoint: its camera is the local one, followed over the call
    const named = terminal(t);
    named.run(
      [
        process.execPath,
        BIN,
        '-f',
        trace,
        '--speed',
        '8',
        '--local',
        `127.0.0.1:${callerPort}`,
        '--db',
        path.join(dir, 'b.db'),
        '--refresh',
        '0.2',
        ...columns,
      ],
      TALL,
    );
    const seen = new Set<string>();
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !/ done @/.test(named.text())) {
      const m = new RegExp(`^ *${callerPort} +${calleePort} (person|background) +(no video|person|background)`).exec(
        row(named.text()),
      );
      if (m) seen.add(`${m[1]}/${m[2]}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(seen.has('person/no video') && seen.has('background/no video'), [...seen].join(' '));
    named.keys('q');
    await named.waitFor(/EXIT=0/, 15_000);
  },
);

test('since counts on the pipeline clock and starts again when the presence changes', { skip: noTmux }, async (t) => {
  const term = terminal(t);
  const db = new FixtureDb(path.join(term.dir, 'since.db'));
  t.after(() => db.close());
  db.meta(replayMeta({ clock: T0 + 100 })).flows([
    flowRow({ flow_id: 'call-s', presence: 'person', presence_since: T0 + 90, remote_since: T0 + 40 }),
  ]);
  const opts: TuiOptions = {
    dbPath: db.file,
    refreshS: 0.2,
    columns: ['flowID', 'presence', 'since', 'remotePresence', 'remoteSince'],
    filters: [],
    sourceLabel: 'file:call.pcapng',
    run: 1,
    labelsPath: path.join(term.dir, 'l.csv'),
    modelName: 'm',
  };
  term.start(opts, SIZE);
  await term.waitFor(/^call-s +person +10s background +1m00s/m);
  db.meta({ clock: T0 + 165 });
  await term.waitFor(/^call-s +person +1m15s background +2m05s/m);
  db.flows([flowRow({ flow_id: 'call-s', presence: 'background', presence_since: T0 + 160, remote_since: T0 + 40 })]);
  await term.waitFor(/^call-s +background +5s background +2m05s/m);
  term.keys('q');
  await term.waitFor(/EXIT=0/);
});

const isRoot = process.getuid?.() === 0;

test(
  'labelling a replay as root and as a sudo user: the labels go where the user can write, and the screen says where',
  { skip: noTmux || noCalls || (!isRoot && 'needs root: the monitor drops privileges only then'), timeout: 90_000 },
  async (t) => {
    // the current directory and the database's are root's, closed to the user the UI becomes
    const root = reachableDir('labelling');
    const cwd = path.join(root, 'cwd');
    fs.mkdirSync(cwd, { mode: 0o755 });

    const mark = async (env: Record<string, string>, dbDir: string): Promise<string> => {
      const term = terminal(t);
      const argv = [process.execPath, BIN, '-f', OFFICE, '--speed', '2', '--db', path.join(dbDir, 'r.db')];
      term.run([...argv, '--refresh', '0.2', 'flowID', 'presence', 'since'], SIZE, env, cwd);
      await term.waitFor(/^[0-9a-f]{16} +(person|background)/m, 20_000);
      term.keys('1');
      const said = await term.waitFor(/labels go to \S+/);
      await new Promise((r) => setTimeout(r, 1500));
      term.keys('0');
      await new Promise((r) => setTimeout(r, 1500));
      term.keys('q');
      await term.waitFor(/EXIT=0/, 20_000);
      return (/labels go to (\S+)/.exec(said) as RegExpExecArray)[1];
    };
    const content = (file: string): string[] => fs.readFileSync(file, 'utf8').trim().split('\n');

    // root without sudo: root is the invoking user (docs/monitor.md "Privileges"), the labels go to
    // the current directory, root's own
    const dbRoot = path.join(root, 'db-root');
    fs.mkdirSync(dbRoot, { mode: 0o755 });
    const asRoot = await mark({}, dbRoot);
    assert.equal(asRoot, path.join(cwd, 'spymate-labels.csv'));
    assert.deepEqual(
      content(asRoot).map((l) => l.replace(/^[\d.]+,[\d.]+,/, '')),
      ['start,end,label', 'person', 'background'],
    );
    assert.deepEqual([fs.statSync(asRoot).uid, fs.statSync(asRoot).mode & 0o777], [0, 0o600]);

    // under sudo the UI runs as the invoking user: the labels go beside its database
    const dbUser = path.join(root, 'db-user');
    fs.mkdirSync(dbUser, { mode: 0o700 });
    fs.chownSync(dbUser, 4242, 4242);
    const asUser = await mark({ SUDO_UID: '4242', SUDO_GID: '4242' }, dbUser);
    assert.equal(asUser, path.join(dbUser, 'spymate-labels.csv'));
    assert.equal(content(asUser).length, 3);
    assert.equal(fs.statSync(asUser).uid, 4242);
  },
);
