/**
 * spymate-tui end to end on replayed traces (-f) and saved records (--records): the real bin,
 * its two workers, a real SQLite file, NDJSON on stdout and in --out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, ndjsonRecords, readDb, runCli, startCli, tmpDir, waitFor } from './run-cli';
import { writeTwoCalls } from './call-trace';
import { openTrace } from '../../src/capture/reader';
import { newRawPacket } from '../../src/capture/decode';

const dir = tmpDir('replay');
const trace = writeTwoCalls(path.join(dir, 'two-calls.pcap'), 20, 8);

test('replay --headless: flows, windows and presence rows in SQLite; NDJSON on stdout; summary on stderr', async () => {
  const db = path.join(dir, 'a.db');
  const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--timeout', '4']);
  assert.equal(r.code, 0, r.stderr);
  const d = readDb(db);
  assert.equal(d.flows.length, 2);
  for (const f of d.flows) {
    assert.equal(f.app, 'webrtc');
    assert.equal(f.ended, 1);
    assert.ok(Number(f.windows) > 10);
  }
  const [a, b] = [...d.flows].sort((x, y) => Number(x.last_ts) - Number(y.last_ts));
  // A stopped 12 s before the end of the trace: ended by media stop (or the timeout sweep), not by the trace's end.
  assert.match(String(a.end_reason), /^(media-stop|timeout)$/);
  assert.equal(b.end_reason, 'end-of-trace');
  const recs = ndjsonRecords(r.stdout);
  const windows = recs.filter((x) => x.event === 'window');
  assert.equal(windows.length, d.windows.length);
  const starts = recs.filter((x) => x.event === 'start');
  assert.equal(starts.length, 2);
  assert.equal(recs.filter((x) => x.event === 'end').length, 2);
  // why each is a call, and how sure: the rule, 100 % — in NDJSON, in every window, in SQLite
  for (const s of starts) {
    assert.match(String(s.callReason), /^rules\/90-webrtc\.rules:\d+$/);
    assert.equal(s.callCertainty, 1);
  }
  assert.ok(windows.every((w) => w.callCertainty === 1));
  // A flow's packets and bytes are the end record's (the flow table's exact totals), which its
  // windows add up to: the start record's count, made of the first windows' packets, is not added again.
  for (const f of d.flows) {
    const end = recs.find((x) => x.event === 'end' && x.flowID === f.flow_id)!;
    const own = windows.filter((w) => w.flowID === f.flow_id);
    assert.equal(f.packets, end.packets);
    assert.equal(f.bytes, end.bytes);
    assert.equal(
      own.reduce((n, w) => n + Number(w.packets), 0),
      end.packets,
    );
  }
  for (const f of d.flows) {
    assert.equal(f.call_certainty, 1);
    assert.match(String(f.call_reason), /^rules\/90-webrtc\.rules:\d+$/);
  }
  assert.ok(typeof windows[0].all_packets === 'number', 'features are keys of the record');
  assert.ok(['person', 'background', 'unknown'].includes(String(windows[0].presence)));
  // The summary has the meter's final counts, not the last periodic ones.
  assert.match(
    r.stderr,
    new RegExp(`spymate-tui: ${await tracePackets()} packets, 0 dropped, 2 flows, 2 calls, ${windows.length} windows`),
  );
  assert.equal(d.meta.source, `file:${trace}`);
  assert.equal(d.meta.windows, String(windows.length));
  assert.equal(fs.statSync(db).mode & 0o777, 0o600);
});

test("replaying the same trace twice into one database leaves the same rows, now the second run's", async () => {
  const db = path.join(dir, 'twice.db');
  const first = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
  assert.equal(first.code, 0, first.stderr);
  const once = readDb(db);
  const second = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
  assert.equal(second.code, 0, second.stderr);
  const twice = readDb(db);
  const runs = (rows: Array<Record<string, unknown>>): unknown[] => [...new Set(rows.map((r) => r.run))];
  assert.deepEqual([runs(once.flows), runs(once.windows)], [[1], [1]]);
  assert.deepEqual([runs(twice.flows), runs(twice.windows)], [[2], [2]], 'the second run took every row over');
  const withoutRun = (rows: Array<Record<string, unknown>>) => rows.map(({ run: _, ...rest }) => rest);
  assert.deepEqual(withoutRun(twice.flows), withoutRun(once.flows));
  assert.deepEqual(withoutRun(twice.windows), withoutRun(once.windows));
});

test('--out appends NDJSON (a new file 0600; an existing one keeps the mode its owner gave it); --records loads it into another database with the same rows', async () => {
  const db = path.join(dir, 'out.db');
  const out = path.join(dir, 'records.ndjson');
  const fresh = path.join(dir, 'fresh.ndjson');
  fs.writeFileSync(out, '');
  fs.chmodSync(out, 0o644);
  const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(fs.readFileSync(out, 'utf8'), r.stdout);
  assert.equal(fs.statSync(out).mode & 0o777, 0o644, 'never chmod a file the user named');
  const f = await runCli([
    '-f',
    trace,
    '--speed',
    'max',
    '--headless',
    '--db',
    path.join(dir, 'fresh.db'),
    '--out',
    fresh,
  ]);
  assert.equal(f.code, 0, f.stderr);
  assert.equal(fs.statSync(fresh).mode & 0o777, 0o600);
  const db2 = path.join(dir, 'loaded.db');
  const l = await runCli(['--records', out, '--headless', '--db', db2]);
  assert.equal(l.code, 0, l.stderr);
  const [x, y] = [readDb(db), readDb(db2)];
  assert.deepEqual(y.windows, x.windows);
  assert.deepEqual(y.flows, x.flows);
  assert.equal(y.meta.source, `records:${out}`);
});

test('SIGTERM during a real-time replay stores every classified record and exits 0', async () => {
  const db = path.join(dir, 'term.db');
  const out = path.join(dir, 'term.ndjson');
  const run = startCli(['-f', trace, '--speed', '2', '--headless', '--db', db, '--out', out]);
  assert.ok(await waitFor(() => run.output().stdout.split('\n').length > 20, 15_000), 'records flow before the signal');
  run.child.kill('SIGTERM');
  const r = await run.result;
  assert.equal(r.code, 0, r.stderr);
  const windows = ndjsonRecords(fs.readFileSync(out, 'utf8')).filter((x) => x.event === 'window').length;
  assert.ok(windows > 0);
  assert.equal(readDb(db).windows.length, windows);
  assert.match(r.stderr, /records \(\d+ records\/s\)/);
});

test('kill -9 loses at most the last batch', async () => {
  const db = path.join(dir, 'kill.db');
  const out = path.join(dir, 'kill.ndjson');
  const run = startCli(['-f', trace, '--speed', '4', '--headless', '--db', db, '--out', out]);
  assert.ok(await waitFor(() => run.output().stdout.split('\n').length > 60, 15_000));
  run.child.kill('SIGKILL');
  await run.result;
  const windows = ndjsonRecords(fs.readFileSync(out, 'utf8')).filter((x) => x.event === 'window').length;
  const stored = readDb(db).windows.length;
  // NDJSON is written before each batch's transaction: the database lags it by one batch at most.
  assert.ok(stored <= windows && windows - stored <= 512, `stored ${stored}, NDJSON ${windows}`);
  assert.ok(stored > 0);
});

test('usage errors exit 2 with one line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--headless'], /give a source: -i IFACE/],
    [['-f', trace, '--records', trace, '--headless'], /only one source/],
    [['-f', trace], /stdout is not a terminal: add --headless/],
    [['-f', trace, '--headless', '--window', '50'], /--window must be a whole number from 100 to 900/],
    [['-f', trace, '--headless', '--speed', 'fast'], /--speed must be a positive number or 'max'/],
    [['-f', trace, '--headless', '--filter', '300.1.*'], /--filter/],
    [['-f', trace, '--headless', '--local', 'nonsense'], /--local/],
    [['-f', trace, '--headless', 'nosuchcolumn'], /nosuchcolumn/],
  ];
  for (const [args, re] of cases) {
    const r = await runCli([...args, '--db', path.join(dir, 'usage.db')]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('the UI with stdin not a terminal: a usage error before any database is made', { timeout: 20000 }, () => {
  // `script` gives stdout a pseudo-terminal; stdin stays /dev/null
  const db = path.join(dir, 'no-stdin.db');
  const r = spawnSync(
    'script',
    ['-qec', `${process.execPath} ${BIN} -f ${trace} --db ${db} </dev/null; echo "exit $?"`, '/dev/null'],
    { encoding: 'utf8', timeout: 15000 },
  );
  assert.match(r.stdout, /stdin is not a terminal: the UI reads keys from it; add --headless/);
  assert.match(r.stdout, /exit 2/);
  assert.equal(fs.existsSync(db), false, 'no database for a run that never started');
});

test('--list-columns lists the columns and exits 0', async () => {
  const r = await runCli(['--list-columns']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /certainty/);
  assert.match(r.stdout, /flowID/);
});

test('an unreadable records file: one line, exit 1', async () => {
  const garbage = path.join(dir, 'garbage.ndjson');
  fs.writeFileSync(garbage, '{"event":"window"}\n');
  const cases: Array<[string, RegExp]> = [
    [path.join(dir, 'missing.ndjson'), /cannot read \(no such file\)/],
    [dir, /cannot read \(is a directory\)/],
    [garbage, /garbage\.ndjson:1: 'flowID' is missing/],
  ];
  for (const [file, re] of cases) {
    const r = await runCli(['--records', file, '--headless', '--db', path.join(dir, 'rec-bad.db')]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, re);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('a corrupt, newer or locked database: one line, exit 1', async () => {
  const corrupt = path.join(dir, 'corrupt.db');
  fs.writeFileSync(corrupt, 'garbage '.repeat(1000));
  const r = await runCli(['-f', trace, '--headless', '--speed', 'max', '--db', corrupt]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /corrupt\.db: not a spymate database or corrupt/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test(
  'with a terminal: the UI shows the replayed calls; q stops the workers and the summary follows',
  { skip: hasTmux() ? false : 'tmux not installed' },
  async () => {
    // Run as root, the monitor drops to nobody: the UI must be able to enter the database's directory.
    const open = path.join(dir, 'tui');
    fs.mkdirSync(open);
    fs.chmodSync(dir, 0o755);
    const db = path.join(open, 'tui.db');
    const err = path.join(dir, 'tui.err');
    const session = `smlive${process.pid}`;
    const cmd = `${process.execPath} ${BIN} -f ${trace} --speed 4 --db ${db} 2>${err}; echo EXIT=$? >>${err}`;
    execFileSync('tmux', ['new-session', '-d', '-s', session, '-x', '120', '-y', '30', cmd]);
    try {
      const screen = () => execFileSync('tmux', ['capture-pane', '-p', '-t', session]).toString();
      assert.ok(await waitFor(() => /webrtc\s+10\.0\.0\.1/.test(screen()), 15_000), screen());
      execFileSync('tmux', ['send-keys', '-t', session, 'q']);
      assert.ok(await waitFor(() => fs.existsSync(err) && /EXIT=/.test(fs.readFileSync(err, 'utf8')), 15_000));
      const text = fs.readFileSync(err, 'utf8');
      assert.match(text, /EXIT=0/);
      assert.match(text, /spymate-tui: \d+ packets, 0 dropped, 2 flows, 2 calls/);
      assert.ok(readDb(db).windows.length > 0);
    } finally {
      try {
        execFileSync('tmux', ['kill-session', '-t', session], { stdio: 'ignore' });
      } catch {
        /* already gone */
      }
    }
  },
);

async function tracePackets(): Promise<number> {
  const src = await openTrace(trace);
  const raw = newRawPacket();
  let n = 0;
  do while (src.next(raw)) n++;
  while (await src.more());
  src.close();
  return n;
}

function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
