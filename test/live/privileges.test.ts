import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { canReach, chownForDrop, dropTarget } from '../../src/capture/privileges';
import { defaultDbPath } from '../../src/store/paths';
import { nullDeviceIn } from '../../src/testkit/null-device';
import { isRoot, tmpDir } from './run-cli';

const ROOT_ONLY = isRoot() ? false : 'the drop target is only computed when running as root';

test('root drops to the sudo user, else to nobody', { skip: ROOT_ONLY }, () => {
  assert.deepEqual(dropTarget({ SUDO_UID: '1000', SUDO_GID: '1001' }), { uid: 1000, gid: 1001, name: 'user 1000' });
  const nobody = dropTarget({});
  assert.equal(nobody?.name, 'nobody');
  assert.ok(nobody!.uid > 0);
  // sudo run by root itself (SUDO_UID=0) is not a user to drop to
  assert.equal(dropTarget({ SUDO_UID: '0' })?.name, 'nobody');
});

test(
  'chownForDrop gives files and directories to the dropped user, never a device, a pipe or a terminal',
  { skip: ROOT_ONLY },
  () => {
    const dir = tmpDir('chown');
    const file = path.join(dir, 'spymate.db');
    const sub = path.join(dir, 'sub');
    const fifo = path.join(dir, 'pipe');
    const dev = nullDeviceIn(dir);
    fs.writeFileSync(file, '');
    fs.mkdirSync(sub);
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    const link = path.join(dir, 'stdout');
    fs.symlinkSync(dev, link); // as /dev/stdout is a link to a terminal
    const nobody = dropTarget({})!;
    chownForDrop([file, sub, fifo, dev, link, path.join(dir, 'missing')], nobody);
    assert.deepEqual(
      [file, sub].map((p) => fs.statSync(p).uid),
      [nobody.uid, nobody.uid],
    );
    assert.deepEqual(
      [fifo, dev].map((p) => fs.statSync(p).uid),
      [0, 0],
    );
  },
);

test('canReach follows the x bit that applies to the user, up to /', { skip: ROOT_ONLY }, () => {
  const dir = tmpDir('reach');
  const file = path.join(dir, 'sub', 'spymate.db');
  fs.mkdirSync(path.dirname(file));
  const nobody = dropTarget({})!;
  fs.chmodSync(dir, 0o700);
  assert.equal(canReach(file, nobody), false);
  fs.chmodSync(dir, 0o755);
  assert.equal(canReach(file, nobody), true);
  fs.chownSync(path.dirname(file), nobody.uid, nobody.gid);
  fs.chmodSync(path.dirname(file), 0o700);
  assert.equal(canReach(file, nobody), true, 'owner x bit');
});

test("the default database: XDG_STATE_HOME, else the sudo user's home, else /var/lib for root", () => {
  assert.equal(defaultDbPath({ XDG_STATE_HOME: '/x/state' }), '/x/state/spymate/spymate.db');
  if (isRoot()) {
    assert.equal(defaultDbPath({}), '/var/lib/spymate/spymate.db');
    const rootHome = defaultDbPath({ SUDO_UID: '0' });
    assert.equal(rootHome, '/var/lib/spymate/spymate.db');
  }
});
