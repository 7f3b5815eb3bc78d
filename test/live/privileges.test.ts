/**
 * Privileges in tcpdump's order: a replay becomes the invoking user (SUDO_UID) before anything is
 * opened; as plain root, files are only written when they are root's own, never through another
 * user's link; nothing is chowned or chmod-ed. The sudo user here is `nobody` (65534): the tests
 * run as root (CI does), and skip with the reason otherwise.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { helperTarget, invokingUser } from '../../src/capture/privileges';
import { defaultDbPath } from '../../src/store/paths';
import { writeTwoCalls } from './call-trace';
import { cliEnv, SPYMATE } from '../../src/testkit/spymate-cli';
import { NOBODY, SUDO_ENV, whyNotAsNobody } from '../../src/testkit/sudo-user';
import { BIN, isRoot, ndjsonRecords, readDb, runCli, tmpDir } from './run-cli';

const SUDO_SKIP = whyNotAsNobody(BIN);
const ROOT_ONLY = isRoot() ? false : 'needs root';

/** A directory the test's sudo user owns, inside one everybody may enter. */
function userDir(name: string): string {
  const top = tmpDir(name);
  fs.chmodSync(top, 0o755);
  const dir = path.join(top, 'home');
  fs.mkdirSync(dir);
  fs.chownSync(dir, NOBODY, NOBODY);
  return dir;
}

/** Owner, mode and bytes: what a run that must not touch a file must leave. */
function snapshot(file: string): { uid: number; mode: number; bytes: string } {
  const st = fs.lstatSync(file);
  return { uid: st.uid, mode: st.mode, bytes: fs.readFileSync(file).toString('hex') };
}

function noStack(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace');
}

test(
  'under sudo the invoking user is SUDO_UID; plain root is its own invoking user, its capture helper becomes nobody',
  { skip: ROOT_ONLY },
  () => {
    assert.deepEqual(invokingUser({ SUDO_UID: '1000', SUDO_GID: '1001' }), { uid: 1000, gid: 1001, name: 'user 1000' });
    assert.equal(invokingUser({}), null);
    assert.equal(invokingUser({ SUDO_UID: '0' }), null, 'sudo run by root itself');
    assert.equal(helperTarget({ SUDO_UID: '1000', SUDO_GID: '1001' })?.uid, 1000);
    assert.equal(helperTarget({})?.name, 'nobody');
  },
);

test(
  'a sudo replay opens the database and --out as the invoking user: created 0600 and theirs, nothing chowned',
  { skip: SUDO_SKIP },
  async () => {
    const dir = userDir('priv-own');
    const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 12, 6);
    const db = path.join(dir, 'run.db');
    const out = path.join(dir, 'run.ndjson');
    const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--out', out], { env: SUDO_ENV });
    assert.equal(r.code, 0, r.stderr);
    for (const f of [db, out]) {
      const st = fs.statSync(f);
      assert.deepEqual([st.uid, st.mode & 0o777], [NOBODY, 0o600], f);
    }
    assert.ok(readDb(db).flows.length >= 1);
    const runs = new Database(db, { readonly: true }).prepare('SELECT uid, source FROM runs').all() as Array<{
      uid: number;
    }>;
    assert.equal(runs[0].uid, NOBODY, 'the run wrote as the invoking user');
    assert.ok(ndjsonRecords(r.stdout).length > 0);
  },
);

test(
  '--out naming a root-owned file, or a link to one, under sudo: refused, the file left exactly as it was',
  { skip: SUDO_SKIP },
  async () => {
    const dir = userDir('priv-out');
    const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
    const conf = path.join(path.dirname(dir), 'root.conf');
    fs.writeFileSync(conf, 'secret=1\n', { mode: 0o644 });
    const link = path.join(dir, 'link.ndjson');
    fs.symlinkSync(conf, link);
    const before = snapshot(conf);
    for (const out of [conf, link]) {
      const db = path.join(dir, `${path.basename(out)}.db`);
      const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--out', out], {
        env: SUDO_ENV,
      });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /permission denied|not writable/);
      noStack(r.stderr);
      assert.deepEqual(snapshot(conf), before, `${out}: the root-owned file is untouched`);
      assert.ok(!fs.existsSync(db), 'the database is not created when --out fails');
    }
  },
);

test(
  "--db naming another program's SQLite file: refused in one line, not converted, not chowned or chmod-ed",
  { skip: ROOT_ONLY },
  async () => {
    const dir = tmpDir('priv-foreign');
    fs.chmodSync(dir, 0o755);
    const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
    const app = path.join(dir, 'app.db');
    const a = new Database(app);
    a.exec("CREATE TABLE users (name TEXT); INSERT INTO users VALUES ('alice')");
    a.close();
    fs.chmodSync(app, 0o644);
    const link = path.join(dir, 'link.db');
    fs.symlinkSync(app, link);
    const before = snapshot(app);
    for (const [db, env] of [[app, {}], [link, {}], ...(SUDO_SKIP ? [] : [[app, SUDO_ENV] as const])] as const) {
      const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db], { env });
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /not spymate's|a symbolic link|permission denied|read-only/, r.stderr);
      noStack(r.stderr);
      assert.deepEqual(snapshot(app), before, `${db}: the application's database is untouched`);
      assert.deepEqual(
        fs
          .readdirSync(dir)
          .filter((f) => f.startsWith('app.db') || f.startsWith('link.db'))
          .sort(),
        ['app.db', 'link.db'],
        'no -wal, -shm or lock file beside it',
      );
    }
  },
);

test(
  'sudo with --db in a root-only tree: no directory is created there, one line says why',
  { skip: SUDO_SKIP },
  async () => {
    const top = tmpDir('priv-dirs');
    fs.chmodSync(top, 0o755);
    const trace = writeTwoCalls(path.join(top, 'calls.pcap'), 6, 3);
    const rootOnly = path.join(top, 'rootonly');
    fs.mkdirSync(rootOnly, { mode: 0o755 });
    const db = path.join(rootOnly, 'a', 'b', 'x.db');
    const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db], { env: SUDO_ENV });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /directory .*rootonly\/a\/b does not exist; create it, or choose another --db/);
    assert.deepEqual(fs.readdirSync(rootOnly), [], 'nothing created as root inside the root-only tree');
  },
);

test(
  "plain root writes only root's own files: another user's --out, or a link they planted, is refused and untouched",
  { skip: ROOT_ONLY },
  async () => {
    const dir = tmpDir('priv-root');
    const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
    const theirs = path.join(dir, 'theirs.ndjson');
    fs.writeFileSync(theirs, 'their data\n', { mode: 0o666 });
    fs.chownSync(theirs, NOBODY, NOBODY);
    const target = path.join(dir, 'root-target.conf');
    fs.writeFileSync(target, 'root data\n', { mode: 0o644 });
    const planted = path.join(dir, 'planted.ndjson');
    fs.symlinkSync(target, planted);
    fs.lchownSync(planted, NOBODY, NOBODY);
    const readOnly = path.join(dir, 'ro.ndjson');
    fs.writeFileSync(readOnly, 'kept\n', { mode: 0o444 });
    const files = [theirs, target, readOnly];
    const before = files.map(snapshot);
    for (const out of [theirs, planted, readOnly]) {
      const db = path.join(dir, `${path.basename(out)}.db`);
      const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db, '--out', out]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /owned by uid 65534, not by root|read-only file/, r.stderr);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!fs.existsSync(db), 'no database when --out is refused');
    }
    assert.deepEqual(files.map(snapshot), before);
  },
);

test('plain root and a read-only (0444) database: refused, not written', { skip: ROOT_ONLY }, async () => {
  const dir = tmpDir('priv-rodb');
  const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
  const db = path.join(dir, 'ro.db');
  assert.equal((await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db])).code, 0);
  fs.chmodSync(db, 0o444);
  const before = snapshot(db);
  const r = await runCli(['-f', trace, '--speed', 'max', '--headless', '--db', db]);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /read-only file \(mode 444\)/);
  assert.deepEqual(snapshot(db), before);
});

test(
  "spymate under sudo becomes the invoking user first: its output is theirs; a root-owned file stays root's",
  { skip: SUDO_SKIP },
  () => {
    const dir = userDir('priv-spymate');
    const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
    const run = (out: string) =>
      spawnSync(process.execPath, [SPYMATE, 'extract', trace, '-q', '-o', out], {
        encoding: 'utf8',
        env: cliEnv(SUDO_ENV),
      });
    const mine = path.join(dir, 'features.csv');
    const ok = run(mine);
    assert.equal(ok.status, 0, ok.stderr);
    assert.deepEqual([fs.statSync(mine).uid, fs.statSync(mine).mode & 0o777], [NOBODY, 0o600]);
    const rootFile = path.join(path.dirname(dir), 'root.csv');
    fs.writeFileSync(rootFile, 'root\n', { mode: 0o644 });
    const before = snapshot(rootFile);
    const r = run(rootFile);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /root\.csv: (not writable|permission denied)/);
    assert.deepEqual(snapshot(rootFile), before);
  },
);

test("the default database: XDG_STATE_HOME, else the sudo user's home, else /var/lib for root", () => {
  assert.equal(defaultDbPath({ XDG_STATE_HOME: '/x/state' }), '/x/state/spymate/spymate.db');
  if (isRoot()) {
    assert.equal(defaultDbPath({}), '/var/lib/spymate/spymate.db');
    const rootHome = defaultDbPath({ SUDO_UID: '0' });
    assert.equal(rootHome, '/var/lib/spymate/spymate.db');
  }
});
