import { spawnSync } from 'node:child_process';

/** The invoking user of the sudo tests: `nobody`, which every Debian machine has. */
export const NOBODY = 65534;

/** What sudo sets for that user: spymate drops to SUDO_UID/SUDO_GID. */
export const SUDO_ENV = { SUDO_UID: String(NOBODY), SUDO_GID: String(NOBODY) };

/** Why the program at `bin` cannot be run as `nobody` here (the tests then skip or run as root), or false. */
export function whyNotAsNobody(bin: string): string | false {
  if (process.getuid?.() !== 0) return 'needs root (other uids)';
  // the dropped user must be able to read the program
  const r = spawnSync('setpriv', [
    '--reuid',
    String(NOBODY),
    '--regid',
    String(NOBODY),
    '--clear-groups',
    'test',
    '-r',
    bin,
  ]);
  return r.status === 0 ? false : `uid ${NOBODY} cannot read ${bin}`;
}
