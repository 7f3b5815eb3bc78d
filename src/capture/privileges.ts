/**
 * Dropping root after the capture device is open, as tcpdump does (-Z): to the invoking user
 * (SUDO_UID/SUDO_GID) or `nobody`. setuid on Linux applies to every thread of the process, so the
 * main thread's drop covers both workers; the capture helper process drops itself.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface DropTarget {
  uid: number;
  gid: number;
  /** for messages: 'user 1000' or 'nobody' */
  name: string;
}

function nobody(): DropTarget {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f[0] === 'nobody') return { uid: Number(f[2]), gid: Number(f[3]), name: 'nobody' };
    }
  } catch {
    /* fall back to the conventional id */
  }
  return { uid: 65534, gid: 65534, name: 'nobody' };
}

/** Whom to become, or null when not running as root (nothing to drop). */
export function dropTarget(env: NodeJS.ProcessEnv = process.env): DropTarget | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  const uid = Number(env.SUDO_UID);
  const gid = Number(env.SUDO_GID);
  if (Number.isInteger(uid) && uid > 0) {
    return { uid, gid: Number.isInteger(gid) && gid > 0 ? gid : uid, name: `user ${uid}` };
  }
  return nobody();
}

/**
 * Gives the files the process keeps writing after the drop to the target user: the database and
 * its -wal/-shm, --out, and directories we created for them. Must run while still root. Only
 * regular files and directories: `--out /dev/stdout` is a terminal, `--out /dev/null` everybody's
 * (the descriptors opened as root go on working after the drop without it).
 */
export function chownForDrop(paths: readonly string[], to: DropTarget): void {
  for (const p of paths) {
    const st = fs.statSync(p, { throwIfNoEntry: false });
    if (st && (st.isFile() || st.isDirectory())) fs.chownSync(p, to.uid, to.gid);
  }
}

/** Becomes `to` for good (groups, gid, then uid: the other order would no longer be allowed). */
export function dropPrivileges(to: Pick<DropTarget, 'uid' | 'gid'>): void {
  process.setgroups?.([to.gid]);
  process.setgid?.(to.gid);
  process.setuid?.(to.uid);
}

/** Whether `to` can enter every directory above `file` (the x bit that applies to it). */
export function canReach(file: string, to: DropTarget): boolean {
  for (let d = path.dirname(path.resolve(file)); ; d = path.dirname(d)) {
    let st: fs.Stats;
    try {
      st = fs.statSync(d);
    } catch {
      return false;
    }
    const bit = st.uid === to.uid ? 0o100 : st.gid === to.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    if (d === path.dirname(d)) return true;
  }
}
