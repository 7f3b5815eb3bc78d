import { resolveColumns } from '../../src/tui/columns';
import { decodeMeta } from '../../src/store/meta';
import { initialState, update } from '../../src/tui/state';
import type { InitOptions, UiEvent, UiState } from '../../src/tui/ui-state';
import type { FlowRow, Snapshot } from '../../src/store/view-types';
import { replayMeta } from '../../src/testkit/fixture-db';

/** Pure-state test helpers: a state, a snapshot, and keys typed into update(). */

/** A read of the database that shows these flows in this order. */
export function snapshot(
  order: string[],
  meta: Record<string, string | number> = replayMeta(),
  total = order.length,
): Snapshot {
  return {
    ok: true,
    problem: null,
    ended: 0,
    meta: decodeMeta(Object.entries(meta).map(([key, value]) => ({ key, value: String(value) }))),
    total,
    order,
  };
}

/** The state after a read showing `rows` in their order, with their full rows. */
export function load(s: UiState, rows: FlowRow[], meta: Record<string, string | number> = replayMeta()): UiState {
  const next = update(s, {
    type: 'data',
    snapshot: snapshot(
      rows.map((r) => r.flow_id),
      meta,
    ),
  });
  return update(next, { type: 'rows', rows, replace: true });
}

export function state(over: Partial<InitOptions> = {}): UiState {
  return initialState({
    width: 120,
    height: 30,
    color: true,
    dim: true,
    unicode: true,
    refreshS: 1,
    sourceLabel: 'file:call.pcapng',
    run: 1,
    modelName: 'presence-rf',
    labelsPath: '/tmp/labels.csv',
    columns: resolveColumns([]),
    patterns: [],
    ...over,
  });
}

const NAMES: Record<string, string> = {
  '\r': 'enter',
  '\x1b': 'escape',
  '\t': 'tab',
  '\x7f': 'backspace',
};

/** Types keys: a string of characters, or named keys in angle brackets: 'ab<enter><down>'. */
export function type(s: UiState, keys: string, now = 0): UiState {
  const events: UiEvent[] = [];
  const re = /<([A-Za-z0-9-]+)>|([\s\S])/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(keys))) {
    if (m[1]) {
      const ctrl = m[1].startsWith('C-');
      events.push({ type: 'key', key: { name: ctrl ? m[1].slice(2) : m[1], ctrl }, now });
    } else {
      events.push({ type: 'key', key: { name: NAMES[m[2]] ?? m[2].toLowerCase(), ch: m[2] }, now });
    }
  }
  return events.reduce(update, s);
}

export function ids(s: UiState): string[] {
  return s.view;
}
