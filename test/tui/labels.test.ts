import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { appendLabels, defaultLabelsTarget } from '../../src/tui/labels';
import { T0 } from '../../src/testkit/fixture-db';

const dirs: string[] = [];
after(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-labels-'));
  dirs.push(dir);
  return dir;
}

test('labels files are created 0600 with the header once, then appended to', () => {
  const file = path.join(tmp(), 'call.labels.csv');
  appendLabels({ file, privateDir: null }, [{ start: T0, end: T0 + 2.5, label: 'person' }]);
  appendLabels({ file, privateDir: null }, [{ start: T0 + 2.5, end: T0 + 9, label: 'background' }]);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.equal(
    fs.readFileSync(file, 'utf8'),
    `start,end,label\n${T0}.000,${T0 + 2.5}00,person\n${T0 + 2.5}00,${T0 + 9}.000,background\n`,
  );
});

test('an empty labels file gets the header once, then the lines', () => {
  const file = path.join(tmp(), 'empty.labels.csv');
  fs.writeFileSync(file, '', { mode: 0o600 });
  appendLabels({ file, privateDir: null }, [{ start: 1, end: 2, label: 'person' }]);
  appendLabels({ file, privateDir: null }, [{ start: 2, end: 3, label: 'background' }]);
  assert.equal(fs.readFileSync(file, 'utf8'), 'start,end,label\n1.000,2.000,person\n2.000,3.000,background\n');
});

const isRoot = process.getuid?.() === 0;

/** defaultLabelsTarget and a first mark, run as `nobody` from `cwd` with the database in `dbDir`. */
function asNobody(cwd: string, dbDir: string): { file: string; written: string } {
  const labels = path.resolve(__dirname, '../../src/tui/labels.js');
  const script = `
    const l = require(${JSON.stringify(labels)});
    const t = l.defaultLabelsTarget(${JSON.stringify(path.join(dbDir, 'spymate.db'))});
    l.appendLabels(t, [{ start: 1, end: 2, label: 'person' }]);
    process.stdout.write(JSON.stringify({ file: t.file, written: require('fs').readFileSync(t.file, 'utf8') }));`;
  const r = spawnSync(process.execPath, ['-e', script], { cwd, uid: 65534, gid: 65534, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { file: string; written: string };
}

test(
  "the labels file goes where the user the UI runs as can write: the current directory, the database's, or a private one",
  { skip: !isRoot && 'needs root, to run the UI side as another user' },
  () => {
    const root = tmp();
    fs.chmodSync(root, 0o755);
    const closed = path.join(root, 'closed');
    const open = path.join(root, 'open');
    fs.mkdirSync(closed, { mode: 0o755 });
    fs.mkdirSync(open, { mode: 0o777 });
    fs.chmodSync(open, 0o777);
    // the current directory when it can
    assert.equal(asNobody(open, closed).file, path.join(open, 'spymate-labels.csv'));
    // else the database's
    assert.equal(asNobody(closed, open).file, path.join(open, 'spymate-labels.csv'));
    // else a directory of its own in the temporary directory, 0700
    const fallback = asNobody(closed, closed);
    const dir = path.join(os.tmpdir(), 'spymate-65534');
    dirs.push(dir);
    assert.equal(fallback.file, path.join(dir, 'spymate-labels.csv'));
    assert.equal(fallback.written, 'start,end,label\n1.000,2.000,person\n');
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(dir).uid, 65534);
    // a directory of that name that is not its own is refused, not written into
    fs.rmSync(dir, { recursive: true });
    fs.mkdirSync(dir, { mode: 0o777 });
    fs.chmodSync(dir, 0o777);
    const r = spawnSync(
      process.execPath,
      [
        '-e',
        `require(${JSON.stringify(path.resolve(__dirname, '../../src/tui/labels.js'))}).appendLabels({ file: ${JSON.stringify(path.join(dir, 'x.csv'))}, privateDir: ${JSON.stringify(dir)} }, [{ start: 1, end: 2, label: 'person' }])`,
      ],
      { cwd: closed, uid: 65534, gid: 65534, encoding: 'utf8' },
    );
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /not a private directory of this user/);
    assert.equal(fs.existsSync(path.join(dir, 'x.csv')), false);
  },
);

test('without anything in the way the labels go to the current directory', () => {
  assert.deepEqual(defaultLabelsTarget('/nonexistent/db/spymate.db'), {
    file: path.join(process.cwd(), 'spymate-labels.csv'),
    privateDir: null,
  });
});
