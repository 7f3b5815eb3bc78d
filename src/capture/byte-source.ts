import * as fs from 'fs';
import * as tty from 'tty';
import { UserError } from '../util/errors';

/**
 * A synchronous byte stream under the trace reader: a file or stdin. The reader pulls 1 MiB at a
 * time into its own buffer and the per-packet path never waits on a promise.
 */
export interface ByteSource {
  /** Reads up to len bytes into buf at off; 0 only at the end of the stream. */
  read(buf: Buffer, off: number, len: number): number;
  /** Problems that ended the stream early without being fatal. */
  readonly warnings: string[];
  close(): void;
}

/**
 * A stream that hands out buffers it filled itself and may have none ready yet: gunzip's output,
 * which zlib's public API delivers asynchronously, a piece of about 1 MiB at a time. The reader
 * parses the pieces where they lie (no copy) and waits with ready() between them.
 */
export interface PieceSource {
  /** The next piece of the stream; null at its end; undefined when none is ready yet (await ready()). */
  take(): Buffer | null | undefined;
  /** Resolves once take() has something to give: a piece, the end, or the error it throws. */
  ready(): Promise<void>;
  /** Problems that ended the stream early without being fatal. */
  readonly warnings: string[];
  close(): void;
}

const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/** A file descriptor read with readSync; '-' is stdin. */
export class FdSource implements ByteSource {
  readonly warnings: string[] = [];
  private constructor(
    private fd: number,
    private readonly ownsFd: boolean,
    private readonly name: string,
  ) {}

  static open(path: string, name: string): FdSource {
    if (path === '-') {
      if (tty.isatty(0))
        throw new UserError(
          'stdin is a terminal, not a trace; pipe one in (tcpdump -w - … | spymate …) or give a file name',
        );
      return new FdSource(0, false, name);
    }
    let fd: number;
    try {
      fd = fs.openSync(path, 'r');
    } catch (err) {
      throw openError(err as NodeJS.ErrnoException, name);
    }
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw new UserError(`${name}: is a directory; give a pcap or pcapng file`);
    }
    return new FdSource(fd, true, name);
  }

  read(buf: Buffer, off: number, len: number): number {
    for (;;) {
      try {
        return fs.readSync(this.fd, buf, off, len, null);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // A stdin pipe or terminal left non-blocking by whoever shares it: wait for data.
        if (code === 'EAGAIN') {
          Atomics.wait(sleepCell, 0, 0, 2);
          continue;
        }
        // A disk or network file system failing under us: say which file, not "internal error".
        throw new UserError(
          `${this.name}: reading failed (${(err as Error).message}); check the disk or copy the trace elsewhere`,
        );
      }
    }
  }

  close(): void {
    if (this.ownsFd && this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }
}

function openError(err: NodeJS.ErrnoException, name: string): Error {
  switch (err.code) {
    case 'ENOENT':
      return new UserError(`${name}: no such file; check the path`);
    case 'EACCES':
    case 'EPERM':
      return new UserError(`${name}: permission denied; check the file mode or run with the needed rights`);
    case 'EISDIR':
      return new UserError(`${name}: is a directory; give a pcap or pcapng file`);
    default:
      return err;
  }
}
