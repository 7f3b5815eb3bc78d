/**
 * A tiny entry for the tmux tests: startTui with options given as one JSON argument, so the UI is
 * tested without the engine.
 * The argument is the JSON text or a file holding it. Prints a line after the UI has gone, to show the terminal is usable.
 */
import fs from 'node:fs';
import { describeFailure } from '../util/errors';
import { startTui, type TuiOptions } from '../tui/app';

const arg = process.argv[2] ?? '{}';
const opts = JSON.parse(arg.startsWith('{') ? arg : fs.readFileSync(arg, 'utf8')) as TuiOptions;
startTui(opts).then(
  () => {
    process.stdout.write('spymate-tui test entry: exited\n');
  },
  (err) => {
    const { line, code } = describeFailure(err);
    process.stderr.write(`spymate-tui: ${line}\n`);
    process.exitCode = code;
  },
);
