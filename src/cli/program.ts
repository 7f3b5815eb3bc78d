import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { spymateVersion } from '../rules/paths';
import { usageError } from '../util/errors';

/**
 * Commander set up the way every spymate program wants it: usage errors become one line and
 * exit code 2 (the CLI contract), --help and --version exit 0.
 */
export function newProgram(name: string, description: string): Command {
  const program = new Command(name);
  program.description(description).version(spymateVersion());
  applyExitPolicy(program);
  return program;
}

export function applyExitPolicy(cmd: Command): Command {
  return cmd
    .exitOverride()
    .showHelpAfterError(false)
    .configureOutput({ writeErr: () => undefined, outputError: () => undefined });
}

/** Parses argv; commander's own errors are turned into our usage errors. */
export async function parseProgram(program: Command, argv: string[]): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return;
      throw usageError(`${err.message.replace(/^error: /, '')} (see --help)`);
    }
    throw err;
  }
}

/** Option value parsers shared by the commands. */
export function intInRange(name: string, min: number, max: number): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number from ${min} to ${max}, got '${v}'`);
    }
    return n;
  };
}

export function positiveNumber(name: string): (v: string) => number {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`${name} must be a positive number, got '${v}'`);
    return n;
  };
}

/** For repeatable options: --local A --local B. */
export function collect(v: string, prev: string[] = []): string[] {
  return prev.concat([v]);
}
