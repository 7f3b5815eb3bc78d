import { UserError, usageError } from '../util/errors';
import { resolveColumns } from './columns';
import { parseIpPattern, type IpPattern } from './filter';
import { appendLabels, defaultLabelsTarget, type LabelsTarget } from './labels';
import { SqliteReader } from '../store/sqlite-reader';
import { TerminalScreen } from './screen';
import { Session } from './session';
import type { UiEvent } from './ui-state';

export interface TuiOptions {
  dbPath: string;
  refreshS: number;
  /** the user's COLUMN args and --columns values, unresolved; empty = all that fit */
  columns: string[];
  /** --filter presets */
  filters: string[];
  sourceLabel: string;
  /** the run whose rows to show; null: every row in the database (browsing history) */
  run: number | null;
  /** where live labels are appended; null = ./spymate-labels.csv */
  labelsPath: string | null;
  modelName: string;
}

/** NO_COLOR (no-color.org): present and not empty turns colour off. */
function colorWanted(env: NodeJS.ProcessEnv): boolean {
  return !env.NO_COLOR;
}

function unicodeWanted(env: NodeJS.ProcessEnv): boolean {
  return /utf-?8/i.test(env.LC_ALL || env.LC_CTYPE || env.LANG || '');
}

function presetPatterns(filters: string[]): IpPattern[] {
  return filters.map((f) => {
    try {
      return parseIpPattern(f);
    } catch (err) {
      if (err instanceof UserError) throw usageError(`--filter: ${err.message}`);
      throw err;
    }
  });
}

/**
 * Runs the terminal UI until the user quits (q, Ctrl-C, or SIGTERM/SIGHUP); the terminal is left
 * as it was found. Reads the database read-only every `refreshS` seconds and never writes to it.
 */
export function startTui(opts: TuiOptions): Promise<void> {
  if (!process.stdout.isTTY || !process.stdin.isTTY) {
    return Promise.reject(
      usageError('the terminal UI needs a terminal on stdin and stdout; use --headless for NDJSON records on stdout'),
    );
  }
  let columns;
  let patterns;
  try {
    columns = resolveColumns(opts.columns);
    patterns = presetPatterns(opts.filters);
  } catch (err) {
    return Promise.reject(err);
  }
  // decided here, as the user the UI runs as (the monitor has dropped root by now)
  const labels: LabelsTarget =
    opts.labelsPath !== null ? { file: opts.labelsPath, privateDir: null } : defaultLabelsTarget(opts.dbPath);
  const labelsPath = labels.file;
  const color = colorWanted(process.env);
  const unicode = unicodeWanted(process.env);
  const reader = new SqliteReader(opts.dbPath);

  return new Promise<void>((resolve, reject) => {
    let paintQueued = false;
    let finished = false;

    const paint = (): void => {
      paintQueued = false;
      if (!finished) screen.paint(session.state);
    };
    const schedulePaint = (): void => {
      if (!paintQueued) {
        paintQueued = true;
        setImmediate(paint);
      }
    };

    const finish = (err?: unknown): void => {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGHUP', onSignal);
      reader.close();
      screen.destroy();
      if (err === undefined) resolve();
      else reject(err);
    };

    /** Runs one step of the session and does what it says: quit, paint, or nothing (an idle refresh). */
    const run = (step: () => 'quit' | 'paint' | 'idle'): void => {
      if (finished) return;
      try {
        const next = step();
        if (next === 'quit') finish();
        else if (next === 'paint') schedulePaint();
      } catch (err) {
        finish(err);
      }
    };
    const dispatch = (e: UiEvent): void => run(() => (session.dispatch(e) ? 'quit' : 'paint'));
    const tick = (): void => run(() => (session.refresh() ? 'paint' : 'idle'));
    const onSignal = (): void => dispatch({ type: 'key', key: { name: 'q', ch: 'q' }, now: Date.now() / 1000 });

    const screen = new TerminalScreen(dispatch, { color, unicode });
    const session = new Session(
      reader,
      {
        width: screen.width,
        dim: color && screen.colors >= 16,
        height: screen.height,
        color,
        unicode,
        refreshS: opts.refreshS,
        sourceLabel: opts.sourceLabel,
        run: opts.run,
        modelName: opts.modelName,
        labelsPath,
        columns,
        patterns,
      },
      (lines) => appendLabels(labels, lines),
    );
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    const timer = setInterval(tick, Math.max(50, opts.refreshS * 1000));
    tick();
  });
}
