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

/** Runs a CLI entry point: prints failures as one line on stderr with the program's name. */
export function runMain(prog: string, main: () => Promise<number | void> | number | void): void {
  Promise.resolve()
    .then(main)
    .then((code) => {
      if (typeof code === 'number') process.exitCode = code;
    })
    .catch((err) => {
      const { line, code } = describeFailure(err);
      process.stderr.write(`${prog}: ${line}\n`);
      process.exitCode = code;
    });
}
