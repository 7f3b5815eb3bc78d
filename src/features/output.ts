import * as fs from 'node:fs';

const CHUNK = 1 << 16;

/** The reader went away (`spymate extract … | head`): not a failure, just nobody left to write for. */
export class OutputClosed extends Error {
  constructor(readonly path: string) {
    super(`${path}: the reader closed the output`);
  }
}

/**
 * Opens an output for writing (`flags`: 'w' or 'a'), created 0600. An existing file keeps its old
 * mode through open(): a regular one is made private too; not a device (`-o /dev/null` as root
 * would take /dev/null from everybody) or a named pipe.
 */
export function openPrivate(path: string, flags: 'w' | 'a'): { fd: number; regular: boolean } {
  const fd = fs.openSync(path, flags, 0o600);
  try {
    const regular = fs.fstatSync(fd).isFile();
    if (regular) fs.fchmodSync(fd, 0o600);
    return { fd, regular };
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/**
 * A buffered, synchronous text sink on a file descriptor: the extractor runs in one synchronous
 * loop, so it writes with writeSync and keeps no unbounded queue. Files it creates are 0600.
 */
export class FdOutput {
  private parts: string[] = [];
  private pending = 0;
  private closedByReader = false;

  private constructor(
    private readonly fd: number,
    readonly path: string,
    private readonly owned: boolean,
    /** a regular file (not stdout, /dev/null, a pipe): ours to make private, or to remove */
    readonly regular: boolean,
  ) {}

  /** '-' is stdout; anything else is created (or truncated) with mode 0600. */
  static open(path: string): FdOutput {
    if (path === '-') return new FdOutput(1, 'stdout', false, false);
    const { fd, regular } = openPrivate(path, 'w');
    return new FdOutput(fd, path, true, regular);
  }

  write(s: string): void {
    if (this.closedByReader) return;
    this.parts.push(s);
    this.pending += s.length;
    if (this.pending >= CHUNK) this.flush();
  }

  flush(): void {
    if (this.parts.length === 0) return;
    const data = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.pending = 0;
    let off = 0;
    while (off < data.length) {
      try {
        off += fs.writeSync(this.fd, data, off, data.length - off);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EPIPE') {
          this.closedByReader = true;
          throw new OutputClosed(this.path);
        }
        // a non-blocking pipe that is full: wait a moment for the reader
        // writeSync's errors carry no path: name the output, so the user reads "OUT: no space left…"
        if (code !== 'EAGAIN') throw Object.assign(err as Error, { path: this.path });
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
  }

  close(): void {
    try {
      if (!this.closedByReader) this.flush();
    } finally {
      if (this.owned) fs.closeSync(this.fd);
    }
  }
}
