import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * A private copy of /dev/null (character device 1,3, mode 0666) in `dir`, for tests of what is
 * done to a device given as an output: a regression then cannot take the real one from the
 * machine. Needs root (mknod).
 */
export function nullDeviceIn(dir: string): string {
  const dev = path.join(dir, 'null-device');
  const r = spawnSync('mknod', ['-m', '666', dev, 'c', '1', '3'], { encoding: 'utf8' });
  if (r.status !== 0 || !fs.statSync(dev).isCharacterDevice())
    throw new Error(`mknod ${dev}: ${r.stderr || r.error?.message}`);
  return dev;
}
