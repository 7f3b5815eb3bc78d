import * as fs from 'node:fs';
import * as path from 'node:path';
import { usageError, UserError } from '../util/errors';

const CHUNK = 1 << 16;

/** The reader went away (`spymate extract … | head`): not a failure, just nobody left to write for. */
export class OutputClosed extends Error {
  constructor(readonly path: string) {
    super(`${path}: the reader closed the output`);
  }
}

/** Temporary files not yet renamed into place, removed if the process ends before they are. */
const unfinished = new Set<string>();
let cleanupHooked = false;

function track(tmp: string): void {
  unfinished.add(tmp);
  if (cleanupHooked) return;
  cleanupHooked = true;
  process.on('exit', () => {
    for (const t of unfinished) {
      try {
        fs.unlinkSync(t);
      } catch {
        /* already gone */
      }
    }
  });
}

function asRoot(): boolean {
  return typeof process.geteuid === 'function' && process.geteuid() === 0;
}

/**
 * Root writes only what root owns. A file, pipe or symbolic link someone else owns is theirs: root
 * writing it (or through it) is how a crafted link turns `sudo spymate …` into a way to rewrite
 * any file. Root also ignores a missing write bit, so that is checked here as the kernel would
 * for the owner.
 */
export function checkRootMayWrite(file: string, st: fs.Stats, what: string): void {
  if (!asRoot()) return;
  // only root makes devices: whose one is (/dev/null of a sandbox, a user's terminal) is no one's plant
  if (st.uid !== 0 && !st.isCharacterDevice()) {
    throw new UserError(
      `${file}: ${what} owned by uid ${st.uid}, not by root; as root spymate writes only root's own files (remove it or choose another path)`,
    );
  }
  if (st.isFile() && (st.mode & 0o200) === 0) {
    throw new UserError(
      `${file}: read-only file (mode ${(st.mode & 0o777).toString(8)}); make it writable or choose another path`,
    );
  }
}

function lstatOrNull(p: string): fs.Stats | null {
  return fs.lstatSync(p, { throwIfNoEntry: false }) ?? null;
}

/**
 * Refuses an output that is one of the inputs (the same file, by device and inode, whatever the
 * path says): writing it would destroy what is being read.
 */
export function refuseSameFile(
  output: string,
  outputFlag: string,
  inputs: ReadonlyArray<readonly [string, string]>,
): void {
  const out = fs.statSync(output, { throwIfNoEntry: false });
  // a device or a pipe (/dev/null twice) destroys nothing by being written
  if (out && !out.isFile()) return;
  for (const [flag, input] of inputs) {
    const st = out && fs.statSync(input, { throwIfNoEntry: false });
    const same =
      path.resolve(input) === path.resolve(output) || (!!out && !!st && st.dev === out.dev && st.ino === out.ino);
    if (same) {
      throw usageError(
        `${outputFlag} ${output} is also ${flag} ${input}; writing it would destroy it, choose another output`,
      );
    }
  }
}

/** An output file being written: commit() puts it in place, abort() leaves the old one as it was. */
export interface OutputFile {
  fd: number;
  path: string;
  /** a regular file (not a device or a named pipe) */
  regular: boolean;
  commit(): void;
  abort(): void;
}

/**
 * Opens an output. A regular file (or a new one) is written to a temporary file beside it, created
 * 0600 (or with the mode of the file it replaces), and renamed over it by commit(): until then, and
 * after abort() or a crash, the old file is byte for byte what it was. With `append` (the monitor's --out, the labels file) an existing file
 * is appended to in place, its mode left alone, and a file this call created is removed by abort().
 * Devices and named pipes (`/dev/null`, a FIFO) are written directly and keep their mode; block
 * devices (disks) and directories are refused. As root only root's own files are written, never
 * through another user's symbolic link (O_NOFOLLOW), and nothing is ever chowned or chmod-ed.
 */
export function openOutput(file: string, o: { append?: boolean } = {}): OutputFile {
  let target = file;
  let st = lstatOrNull(file);
  if (st?.isSymbolicLink()) {
    checkRootMayWrite(file, st, 'a symbolic link');
    try {
      target = fs.realpathSync(file);
    } catch {
      throw new UserError(`${file}: a symbolic link to a missing file; give the file itself`);
    }
    st = lstatOrNull(target);
  }
  if (st) {
    if (st.isDirectory()) throw new UserError(`${file}: is a directory; give a file name`);
    if (st.isBlockDevice()) throw new UserError(`${file}: is a block device (a disk); spymate does not write to disks`);
    checkRootMayWrite(file, st, 'a file');
    if (!asRoot() && st.isFile()) {
      try {
        fs.accessSync(target, fs.constants.W_OK);
      } catch {
        throw new UserError(
          `${file}: not writable (mode ${(st.mode & 0o777).toString(8)}); make it writable or choose another path`,
        );
      }
    }
  }
  const nofollow = asRoot() ? fs.constants.O_NOFOLLOW : 0;
  if (st && !st.isFile())
    return openInPlace(file, target, st, fs.constants.O_WRONLY | (o.append ? fs.constants.O_APPEND : 0) | nofollow);
  if (o.append) {
    if (st) return openInPlace(file, target, st, fs.constants.O_WRONLY | fs.constants.O_APPEND | nofollow);
    const fd = fs.openSync(
      target,
      fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_EXCL | nofollow,
      0o600,
    );
    let open = true;
    return {
      fd,
      path: file,
      regular: true,
      commit: () => {
        if (open) fs.closeSync(fd);
        open = false;
      },
      abort: () => {
        if (!open) return;
        open = false;
        fs.closeSync(fd);
        fs.rmSync(target, { force: true });
      },
    };
  }
  const tmp = path.join(
    path.dirname(target),
    `.${path.basename(target)}.${process.pid}-${Math.random().toString(36).slice(2, 8)}.tmp`,
  );
  // The new file takes the old one's place: it would become ours, so someone else's is not replaced,
  // and it keeps the mode its owner gave it (a new one is 0600).
  if (st && st.uid !== process.geteuid?.()) {
    throw new UserError(
      `${file}: owned by uid ${st.uid}; spymate replaces an output whole, which would make it yours (remove it or choose another path)`,
    );
  }
  let fd: number;
  try {
    fd = fs.openSync(
      tmp,
      fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW,
      0o600,
    );
  } catch (err) {
    // the error names the temporary file; the user named the output
    throw Object.assign(err as Error, { path: file });
  }
  track(tmp);
  if (st) fs.fchmodSync(fd, st.mode & 0o777);
  let open = true;
  const close = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  return {
    fd,
    path: file,
    regular: true,
    commit: () => {
      try {
        // on the disk before it replaces the old file: a crash leaves one or the other, whole
        fs.fsyncSync(fd);
        close();
        fs.renameSync(tmp, target);
      } catch (err) {
        close();
        fs.rmSync(tmp, { force: true });
        throw Object.assign(err as Error, { path: file });
      } finally {
        unfinished.delete(tmp);
      }
    },
    abort: () => {
      close();
      fs.rmSync(tmp, { force: true });
      unfinished.delete(tmp);
    },
  };
}

/** Opens an existing device, pipe or (appending) file, checking it is still what lstat saw. */
function openInPlace(file: string, target: string, seen: fs.Stats, flags: number): OutputFile {
  const fd = fs.openSync(target, flags);
  const st = fs.fstatSync(fd);
  if (st.dev !== seen.dev || st.ino !== seen.ino) {
    fs.closeSync(fd);
    throw new UserError(`${file}: changed while being opened; try again`);
  }
  let open = true;
  const close = (): void => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  return { fd, path: file, regular: st.isFile(), commit: close, abort: close };
}

/**
 * A buffered, synchronous text sink on an output (openOutput): the extractor runs in one
 * synchronous loop, so it writes with writeSync and keeps no unbounded queue. close() puts the
 * output in place; abort() leaves an existing file as it was.
 */
export class FdOutput {
  private parts: string[] = [];
  private pending = 0;
  private closedByReader = false;

  private constructor(
    private readonly fd: number,
    readonly path: string,
    private readonly file: OutputFile | null,
  ) {}

  /** '-' is stdout; anything else goes through openOutput. */
  static open(path: string): FdOutput {
    if (path === '-') return new FdOutput(1, 'stdout', null);
    const file = openOutput(path);
    return new FdOutput(file.fd, path, file);
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

  /** Writes what is buffered and puts the output in place. */
  close(): void {
    try {
      if (!this.closedByReader) this.flush();
    } catch (err) {
      this.abort();
      throw err;
    }
    this.file?.commit();
  }

  /** The run failed: whatever was written is dropped, an existing file keeps its old content. */
  abort(): void {
    this.parts = [];
    this.file?.abort();
  }
}

/** Writes a whole output (a model, predictions, a report): in place only once all of it is written. */
export function writeOutput(path: string, data: string): void {
  const out = FdOutput.open(path);
  try {
    out.write(data);
  } catch (err) {
    out.abort();
    throw err;
  }
  out.close();
}

/**
 * Runs `work` with its outputs open ('-' is stdout; an undefined path is no output): each checked
 * against the inputs and the outputs before it, opened before the work starts (a wrong path fails
 * at once, not after minutes of training), and put in place only when the work has written all of
 * them. If anything fails, every existing file keeps its content.
 */
export async function withOutputs<T>(
  inputs: ReadonlyArray<readonly [string, string]>,
  outputs: ReadonlyArray<readonly [string, string | undefined]>,
  work: (outs: Array<FdOutput | null>) => T | Promise<T>,
): Promise<T> {
  const outs: Array<FdOutput | null> = [];
  try {
    const seen: Array<readonly [string, string]> = [...inputs.filter(([, p]) => p !== '-')];
    for (const [flag, p] of outputs) {
      if (p === undefined) {
        outs.push(null);
        continue;
      }
      if (p !== '-') {
        refuseSameFile(p, flag, seen);
        seen.push([flag, p]);
      }
      outs.push(FdOutput.open(p));
    }
    const result = await work(outs);
    for (const o of outs) o?.close();
    return result;
  } catch (err) {
    for (const o of outs) o?.abort();
    throw err;
  }
}
