import { UserError, usageError } from '../util/errors';
import { resolveColumns } from './columns';
import { parsePattern, type IpPattern } from './filter';
import { appendLabels, defaultLabelsPath } from './labels';
import { DbReader } from './reader';
import { RemoteReader } from './remote-reader';
import type { ViewReader } from './view-reader';
import { PgView } from '../store/pg/view';
import { parsePgUrl } from '../store/pg/target';
import { TerminalScreen } from './screen';
import { Session } from './session';
import type { UiEvent } from './ui-state';

export interface TuiOptions {
  dbPath: string;
  /** --store postgres://...: the view over every sensor instead of the SQLite dbPath */
  store?: string | null;
  refreshS: number;
  /** the user's COLUMN args and --columns values, unresolved; empty = all that fit */
  columns: string[];
  /** --filter presets */
  filters: string[];
  sourceLabel: string;
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

function presetPatterns(filters: string[], sensors: boolean): IpPattern[] {
  return filters.map((f) => {
    try {
      return parsePattern(f, sensors);
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
  const sensors = !!opts.store;
  let columns;
  let patterns;
  try {
    columns = resolveColumns(opts.columns, sensors);
    patterns = presetPatterns(opts.filters, sensors);
  } catch (err) {
    return Promise.reject(err);
  }
  const labelsPath = opts.labelsPath ?? defaultLabelsPath();
  const color = colorWanted(process.env);
  const unicode = unicodeWanted(process.env);
  // the view over many sensors answers from its last round trip and says when a new one is in
  let onData = (): void => undefined;
  const remote = opts.store
    ? new RemoteReader(
        new PgView(parsePgUrl(opts.store)),
        opts.refreshS,
        () => onData(),
        `connecting to ${opts.sourceLabel}`,
      )
    : null;
  const reader: ViewReader = remote ?? new DbReader(opts.dbPath);

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
        height: screen.height,
        color,
        unicode,
        refreshS: opts.refreshS,
        sourceLabel: opts.sourceLabel,
        modelName: opts.modelName,
        labelsPath,
        columns,
        patterns,
        sensors,
      },
      (lines) => appendLabels(labelsPath, lines),
    );
    process.on('SIGTERM', onSignal);
    process.on('SIGHUP', onSignal);
    onData = tick;
    remote?.start();
    const timer = setInterval(tick, Math.max(50, opts.refreshS * 1000));
    tick();
  });
}
