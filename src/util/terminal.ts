/**
 * A terminal that went away (a closed ssh, tmux kill-session) must not turn a clean end into a
 * crash. Node, on its way out, restores the terminal mode of every stdio descriptor that was a
 * terminal at start and aborts with a native assertion when that fails, as it does with EIO on a
 * hung-up terminal. Descriptors pointed elsewhere are left alone: so the dead terminal's are
 * pointed at /dev/null first.
 */
import fs from 'node:fs';
import tty from 'node:tty';

const wasTerminal = [0, 1, 2].map((fd) => tty.isatty(fd));

/** Points stdin, stdout and stderr at /dev/null where they were a terminal that is now hung up. */
export function releaseDeadTerminal(): void {
  for (const fd of [0, 1, 2]) {
    // a hung-up terminal answers its ioctls with EIO: isatty() is false for it now
    if (!wasTerminal[fd] || tty.isatty(fd)) continue;
    try {
      fs.closeSync(fd);
      // the lowest free descriptor: fd itself
      fs.openSync('/dev/null', fd === 0 ? 'r' : 'w');
    } catch {
      /* nothing better to do on the way out */
    }
  }
}
