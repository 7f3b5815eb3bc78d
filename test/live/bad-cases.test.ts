/**
 * What goes wrong in the field, each a clear line and the documented exit code: no such
 * interface, no permission to capture, a read-only database, a full disk (a tiny tmpfs mounted
 * here). Root-only cases skip with the reason when not root.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeTwoCalls } from './call-trace';
import { canMakeNetns, createVethPair } from '../../src/testkit/netns';
import {
  childPids,
  holdsCpuLatency,
  isRoot,
  ndjsonRecords,
  readDb,
  runCli,
  startCli,
  tmpDir,
  waitFor,
} from './run-cli';

const ROOT_ONLY = isRoot() ? false : 'needs root (mounts, other uids)';
const dir = tmpDir('bad');
const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 20, 8);

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test('no such interface: exit 2, the interfaces that exist are listed', async () => {
  const r = await runCli(['-i', 'nosuch0', '--headless', '--db', path.join(dir, 'x.db')]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no such interface 'nosuch0'; interfaces here: .*\blo\b/);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

test('no permission to capture: exit 1 and how to get it', { skip: ROOT_ONLY }, async () => {
  const open = path.join(dir, 'open');
  fs.mkdirSync(open);
  fs.chmodSync(dir, 0o755);
  fs.chmodSync(open, 0o777);
  const r = await runCli(['-i', 'lo', '--headless', '--db', path.join(open, 'x.db')], {
    wrap: ['setpriv', '--reuid=nobody', '--regid=nogroup', '--clear-groups'],
  });
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /cannot capture on lo: permission denied; run it with sudo, or .*setcap cap_net_raw,cap_net_admin=eip/,
  );
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
});

function withTmpfs(sizeKb: number, fn: (mnt: string) => Promise<void>): Promise<void> {
  const mnt = fs.mkdtempSync(path.join(dir, 'mnt-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', mnt]);
  return fn(mnt).finally(() => execFileSync('umount', ['-l', mnt]));
}

test('a read-only database: exit 1, one line', { skip: ROOT_ONLY }, () =>
  withTmpfs(4096, async (mnt) => {
    const db = path.join(mnt, 'ro.db');
    const ok = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
    assert.equal(ok.code, 0, ok.stderr);
    execFileSync('mount', ['-o', 'remount,ro', mnt]);
    const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /ro\.db: (database is read-only|cannot open or write the database)/);
    noStack(r.stderr);
  }),
);

test(
  'a full disk: exit 1 with the reason, and every classified record still on stdout',
  { skip: ROOT_ONLY },
  async () => {
    const full = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', path.join(dir, 'whole.db')]);
    assert.equal(full.code, 0, full.stderr);
    const expected = ndjsonRecords(full.stdout).length;
    // Room for the schema, not for the windows: the disk fills mid-run.
    await withTmpfs(128, async (mnt) => {
      const db = path.join(mnt, 'full.db');
      const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /full\.db: disk full; free some space or choose --db on another file system/);
      assert.match(r.stderr, /records were not stored in .*full\.db; they are in the NDJSON output \(stdout\)/);
      noStack(r.stderr);
      assert.equal(ndjsonRecords(r.stdout).length, expected, 'nothing classified is lost');
      // What was committed before the disk filled is intact.
      assert.ok(readDb(db).flows.length <= 2);
    });
  },
);

test(
  'the interface goes away during capture: one line, exit 1 (with --power-save: no PM QoS request)',
  { skip: canMakeNetns() ?? false },
  async () => {
    const pair = createVethPair('gn', 3);
    try {
      const run = startCli(['-i', pair.ifA, '--headless', '--power-save', '--db', path.join(dir, 'gone.db')], {
        wrap: ['ip', 'netns', 'exec', pair.nsA],
      });
      assert.ok(
        await waitFor(() => {
          try {
            return readDb(path.join(dir, 'gone.db')).meta.source === `iface:${pair.ifA}`;
          } catch {
            return false;
          }
        }, 10_000),
      );
      await new Promise((r) => setTimeout(r, 500));
      const helpers = childPids(run.child.pid!);
      assert.ok(helpers.length >= 1, 'no capture helper');
      assert.ok(!helpers.some(holdsCpuLatency), '--power-save, yet the helper holds /dev/cpu_dma_latency');
      execFileSync('ip', ['-n', pair.nsA, 'link', 'del', pair.ifA]);
      const r = await run.result;
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`capture stopped: interface ${pair.ifA} went away`));
      noStack(r.stderr);
    } finally {
      pair.destroy();
    }
  },
);

test('a second monitor on the same database is refused in one line naming the first; the first loses nothing', async () => {
  const db = path.join(dir, 'shared.db');
  const first = startCli(['-f', trace, '--speed', '1', '--headless', '--db', db]);
  assert.ok(
    await waitFor(() => {
      try {
        return readDb(db).windows.length > 0;
      } catch {
        return false;
      }
    }, 15_000),
    'the first monitor did not start',
  );
  const out = path.join(dir, 'second.ndjson');
  const second = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--out', out, '--keep', '0']);
  assert.equal(second.code, 1, second.stderr);
  assert.match(
    second.stderr,
    new RegExp(
      `^spymate-tui: ${db}: another spymate-tui \\(pid ${first.child.pid}, file:${trace}, since [0-9T:.-]+Z\\) is writing to this database; stop it, or choose another --db\\n$`,
    ),
  );
  assert.ok(!fs.existsSync(out), 'the refused run created no --out');
  first.child.kill('SIGTERM');
  const r = await first.result;
  assert.equal(r.code, 0, r.stderr);
  const windows = ndjsonRecords(r.stdout).filter((x) => x.event === 'window').length;
  assert.ok(windows > 0);
  assert.equal(readDb(db).windows.length, windows, 'every record of the first run is still there');
});

test('a run that fails touches nothing: a missing trace leaves --out as it was; a bad --out creates no database; --out = --db is refused', async () => {
  const out = path.join(dir, 'kept.ndjson');
  fs.writeFileSync(out, '{"earlier":"records"}\n', { mode: 0o644 });
  const before = fs.readFileSync(out);
  const db = path.join(dir, 'never.db');
  const missing = await runCli(['-f', path.join(dir, 'no-such.pcap'), '--headless', '--db', db, '--out', out]);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /no-such\.pcap/);
  assert.deepEqual(fs.readFileSync(out), before);
  assert.equal(fs.statSync(out).mode & 0o777, 0o644);
  assert.ok(!fs.existsSync(db), 'no database for a run that could not open its trace');
  const badOut = await runCli([
    '-f',
    trace,
    '--headless',
    '--db',
    db,
    '--out',
    path.join(dir, 'no', 'such', 'dir.ndjson'),
  ]);
  assert.equal(badOut.code, 1, badOut.stderr);
  assert.match(badOut.stderr, /dir\.ndjson: no such file or directory/);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.startsWith('never.db')),
    [],
    'the database is not created before a bad --out is found',
  );
  const same = path.join(dir, 'same.db');
  const r = await runCli(['-f', trace, '--headless', '--db', same, '--out', same]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(
    r.stderr,
    /--out .*same\.db is also --db .*same\.db; writing it would destroy it, choose another output/,
  );
  assert.ok(!fs.existsSync(same));
});

test('a corrupted database: one line saying so, exit 1, the file not chmod-ed', async () => {
  const db = path.join(dir, 'corrupt.db');
  assert.equal((await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db])).code, 0);
  const bytes = fs.readFileSync(db);
  bytes.fill(0xa5, 100, 4096);
  fs.writeFileSync(db, bytes);
  fs.chmodSync(db, 0o640);
  const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(
    r.stderr,
    /^spymate-tui: .*corrupt\.db: not a spymate database or corrupt \(.*\); move it away or choose another --db\n$/,
  );
  noStack(r.stderr);
  assert.equal(fs.statSync(db).mode & 0o777, 0o640);
});
