import { parsePattern, PatternError, type IpPattern } from './filter';
import { clamp } from './layout';
import type { DialogFocus, UiState } from './ui-state';

/**
 * The Filter dialog (Tools → Filter, as in the Skype Traffic Detector): a field, Add, Remove one,
 * Clear all, Close. Pure updates of the UI state; a changed pattern list bumps queryVersion so the
 * edge reads the filtered flows at once.
 */

const DIALOG_FOCUS: readonly DialogFocus[] = ['input', 'add', 'remove', 'clear', 'close'];

function setPatterns(s: UiState, patterns: IpPattern[]): UiState {
  return { ...s, patterns, queryVersion: s.queryVersion + 1 };
}

function dialogAdd(s: UiState): UiState {
  const text = s.dialog.input.trim();
  let p: IpPattern;
  try {
    p = parsePattern(text, !!s.sensors);
  } catch (err) {
    if (err instanceof PatternError) return { ...s, dialog: { ...s.dialog, error: err.reason } };
    throw err;
  }
  const known = s.snapshot.sensors?.map((x) => x.name) ?? [];
  if (p.kind === 'sensor' && known.length > 0 && !known.some((n) => (p as { re: RegExp }).re.test(n))) {
    const error = `not an address, and no sensor is named so (sensors: ${known.join(', ')})`;
    return { ...s, dialog: { ...s.dialog, error } };
  }
  if (s.patterns.some((q) => q.text === p.text))
    return { ...s, dialog: { ...s.dialog, error: `${p.text} is already in the list`, input: '' } };
  const patterns = s.patterns.concat([p]);
  return setPatterns(
    { ...s, dialog: { ...s.dialog, input: '', error: null, selected: patterns.length - 1 } },
    patterns,
  );
}

function dialogRemove(s: UiState): UiState {
  if (s.patterns.length === 0) return { ...s, dialog: { ...s.dialog, error: 'the list is empty' } };
  const i = clamp(s.dialog.selected, 0, s.patterns.length - 1);
  const patterns = s.patterns.filter((_, k) => k !== i);
  return setPatterns(
    { ...s, dialog: { ...s.dialog, error: null, selected: clamp(i, 0, Math.max(0, patterns.length - 1)) } },
    patterns,
  );
}

export function dialogPress(s: UiState, button: DialogFocus): UiState {
  switch (button) {
    case 'input':
    case 'add':
      return dialogAdd(s);
    case 'remove':
      return dialogRemove(s);
    case 'clear':
      return setPatterns({ ...s, dialog: { ...s.dialog, error: null, selected: 0 } }, []);
    case 'close':
      return { ...s, overlay: 'none' };
  }
}

export function dialogKey(s: UiState, id: string): UiState {
  const d = s.dialog;
  switch (id) {
    case 'escape':
      return { ...s, overlay: 'none' };
    case 'tab':
    case 'S-tab': {
      const step = id === 'tab' ? 1 : DIALOG_FOCUS.length - 1;
      return {
        ...s,
        dialog: { ...d, focus: DIALOG_FOCUS[(DIALOG_FOCUS.indexOf(d.focus) + step) % DIALOG_FOCUS.length] },
      };
    }
    case 'enter':
      return dialogPress(s, d.focus);
    case 'up':
    case 'down':
      return {
        ...s,
        dialog: { ...d, selected: clamp(d.selected + (id === 'up' ? -1 : 1), 0, Math.max(0, s.patterns.length - 1)) },
      };
    case 'delete':
      return dialogRemove(s);
    case 'backspace':
      return { ...s, dialog: { ...d, input: d.input.slice(0, -1), error: null } };
    case 'C-u':
      return { ...s, dialog: { ...d, input: '', error: null } };
    default:
      if (id.length === 1 && d.focus === 'input') return { ...s, dialog: { ...d, input: d.input + id, error: null } };
      if (id.length === 1) return { ...s, dialog: { ...d, focus: 'input', input: d.input + id, error: null } };
      return s;
  }
}
