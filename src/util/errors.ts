/** Exit codes are part of the CLI contract (docs/design.md, "Exit codes"): 0 ok, 1 runtime failure, 2 usage error. */
export const EXIT_RUNTIME = 1;
const EXIT_USAGE = 2;

/**
 * An error meant for the user: one line naming the thing and the fix, never a stack trace.
 * Anything else that escapes is a bug and is reported as such (still on one line).
 */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_RUNTIME,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export function usageError(message: string): UserError {
  return new UserError(message, EXIT_USAGE);
}

/** Turns a thrown value into the one line the user sees and the exit code. */
export function describeFailure(err: unknown): { line: string; code: number } {
  if (err instanceof UserError) return { line: err.message, code: err.exitCode };
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && e.path) {
    const what: Record<string, string> = {
      ENOENT: 'no such file or directory',
      EACCES: 'permission denied (check the file mode or run with the needed rights)',
      EISDIR: 'is a directory, expected a file',
      ENOSPC: 'no space left on the device (free some space and retry)',
      EROFS: 'read-only file system (choose a writable location)',
    };
    return { line: `${e.path}: ${what[e.code] ?? e.message}`, code: EXIT_RUNTIME };
  }
  const msg = err instanceof Error ? err.message : String(err);
  return { line: `internal error: ${msg} (please report this with the command you ran)`, code: EXIT_RUNTIME };
}

/** Control characters (C0, DEL, C1), line separators and bidirectional overrides. */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text echoed from input (a labels value, a model's feature name, a file name, a rule) made safe
 * for a terminal: control characters become visible escapes, so a crafted file can neither clear
 * the screen, set the window title nor start a second line that passes for another message.
 */
export function printable(s: string): string {
  return s.replace(UNPRINTABLE, (c) => {
    const n = c.charCodeAt(0);
    return n < 0x100 ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

/**
 * Writes one line to stderr, escaped as printable() does. A terminal that went away (EIO, a closed
 * ssh) makes the write fail: the line is lost, the run goes on to end cleanly.
 */
export function errorLine(line: string): void {
  try {
    process.stderr.write(printable(line) + '\n');
  } catch {
    /* nobody to tell */
  }
}

/** Runs a CLI entry point: prints failures as one line on stderr with the program's name. */
export function runMain(prog: string, main: () => Promise<number | void> | number | void): void {
  // stderr on a terminal that is gone reports EIO as an event; unhandled, it would end the run with a stack trace
  process.stderr.on('error', () => undefined);
  Promise.resolve()
    .then(main)
    .then((code) => {
      if (typeof code === 'number') process.exitCode = code;
    })
    .catch((err) => {
      const { line, code } = describeFailure(err);
      errorLine(`${prog}: ${line}`);
      process.exitCode = code;
    });
}
