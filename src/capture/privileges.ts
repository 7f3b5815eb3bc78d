/**
 * Privileges in tcpdump's order (-Z): what needs root (opening the capture device) is done first,
 * then root is dropped for good to the invoking user, and every file is opened after that, as
 * that user: nothing is created as root to be handed over, nothing is ever chowned.
 *
 * The invoking user is SUDO_UID/SUDO_GID under sudo. Run as root without sudo, root is the
 * invoking user: the process keeps root for its files (opened with features/output.ts's root
 * rules: only root's own, never through another user's link), and only the capture helper, which
 * writes nothing but a pipe, becomes `nobody`. setuid on Linux applies to every thread of the
 * process, so the main thread's drop covers the workers; the capture helper process drops itself.
 */
import fs from 'node:fs';

export interface DropTarget {
  uid: number;
  gid: number;
  /** for messages: 'user 1000' or 'nobody' */
  name: string;
}

function isRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/** The /etc/passwd entry of a user, by name or uid: its uid, gid and home; null when there is none. */
export function passwdEntry(who: string | number): { uid: number; gid: number; home: string } | null {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length >= 6 && (typeof who === 'string' ? f[0] === who : Number(f[2]) === who)) {
        return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
      }
    }
  } catch {
    /* no passwd file */
  }
  return null;
}

function nobody(): DropTarget {
  const e = passwdEntry('nobody');
  // the conventional ids when there is no entry
  return { uid: e?.uid ?? 65534, gid: e?.gid ?? 65534, name: 'nobody' };
}

/** The user who ran us through sudo, whom root becomes; null when not root, or root is the invoking user. */
export function invokingUser(env: NodeJS.ProcessEnv = process.env): DropTarget | null {
  if (!isRoot()) return null;
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (!env.SUDO_UID || !Number.isInteger(uid) || uid <= 0) return null;
  return { uid, gid: Number.isInteger(gid) && gid > 0 ? gid : uid, name: `user ${uid}` };
}

/**
 * Whom the capture helper becomes once the device is open: the invoking user (who must be able to
 * signal it), or `nobody` when that is root; null when not root.
 */
export function helperTarget(env: NodeJS.ProcessEnv = process.env): DropTarget | null {
  if (!isRoot()) return null;
  return invokingUser(env) ?? nobody();
}

/**
 * Becomes `to` for good: the user's groups (those of /etc/group, as login would give), the
 * group, then the user (the other order would no longer be allowed); HOME becomes theirs too (sudo
 * leaves root's), so what is read from it afterwards (~/.pgpass) is the user's.
 */
export function dropPrivileges(to: Pick<DropTarget, 'uid' | 'gid'>): void {
  const home = passwdEntry(to.uid)?.home;
  if (home) process.env.HOME = home;
  try {
    // in Node since 0.9, missing from @types/node
    (process as { initgroups?: (user: number, extraGroup: number) => void }).initgroups?.(to.uid, to.gid);
  } catch {
    // a uid with no passwd entry: its own group only
    process.setgroups?.([to.gid]);
  }
  process.setgid?.(to.gid);
  process.setuid?.(to.uid);
}
