import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** Home directory of a uid from /etc/passwd (sudo keeps root's HOME), or null. */
function homeOf(uid: number): string | null {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && Number(f[2]) === uid) return f[5];
    }
  } catch {
    /* no passwd file: fall through */
  }
  return null;
}

/**
 * The default database: $XDG_STATE_HOME/spymate/spymate.db, else ~/.local/state/spymate/spymate.db
 * of the invoking user (under sudo: SUDO_UID's home, so the file ends up where its owner looks).
 * State, not data or cache: it persists between runs but can be deleted at will. Run as root
 * without sudo, the monitor drops to `nobody`, who cannot enter /root: /var/lib/spymate then.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, 'spymate', 'spymate.db');
  const sudoUid = env.SUDO_UID ? Number(env.SUDO_UID) : NaN;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && Number.isInteger(sudoUid) && sudoUid > 0) {
    const home = homeOf(sudoUid);
    if (home) return path.join(home, '.local', 'state', 'spymate', 'spymate.db');
  }
  if (isRoot) return path.join('/var/lib/spymate', 'spymate.db');
  return path.join(os.homedir(), '.local', 'state', 'spymate', 'spymate.db');
}
