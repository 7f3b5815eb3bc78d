import os from 'node:os';
import path from 'node:path';
import { passwdEntry } from '../capture/privileges';

/**
 * The default database: $XDG_STATE_HOME/spymate/spymate.db, else ~/.local/state/spymate/spymate.db
 * of the invoking user (under sudo: SUDO_UID's home, so the file ends up where its owner looks).
 * State, not data or cache: it persists between runs but can be deleted at will. Run as root
 * without sudo, root is the invoking user: /var/lib/spymate, the system's place for state.
 */
export function defaultDbPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.XDG_STATE_HOME) return path.join(env.XDG_STATE_HOME, 'spymate', 'spymate.db');
  const sudoUid = env.SUDO_UID ? Number(env.SUDO_UID) : NaN;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot && Number.isInteger(sudoUid) && sudoUid > 0) {
    const home = passwdEntry(sudoUid)?.home;
    if (home) return path.join(home, '.local', 'state', 'spymate', 'spymate.db');
  }
  if (isRoot) return path.join('/var/lib/spymate', 'spymate.db');
  return path.join(os.homedir(), '.local', 'state', 'spymate', 'spymate.db');
}
