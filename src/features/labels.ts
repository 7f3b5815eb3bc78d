import * as fs from 'node:fs';
import { UserError } from '../util/errors';

/** Label times below this are seconds from the trace's first packet, not epoch seconds (docs/design.md, "Labels"). */
const RELATIVE_BELOW = 1e9;
/** Window edges computed as k·W/1000 may sit a rounding error outside a label boundary. */
const EPS = 1e-6;

export interface LabelInterval {
  start: number;
  end: number;
  label: 0 | 1;
  /** times are seconds from the trace's first packet */
  relative: boolean;
}

/** Ground truth for one trace: `start,end,label` intervals. */
export class LabelSet {
  constructor(
    readonly source: string,
    readonly intervals: readonly LabelInterval[],
  ) {}

  /**
   * The label of the window [start, end) if it lies wholly inside one interval (or inside several
   * that agree); undefined otherwise. `traceStart` is the epoch time of the trace's first packet.
   */
  labelFor(start: number, end: number, traceStart: number): 0 | 1 | undefined {
    let found: 0 | 1 | undefined;
    for (const iv of this.intervals) {
      const base = iv.relative ? traceStart : 0;
      if (start >= base + iv.start - EPS && end <= base + iv.end + EPS) {
        if (found !== undefined && found !== iv.label) return undefined;
        found = iv.label;
      }
    }
    return found;
  }
}

function parseLabel(s: string): 0 | 1 | null {
  const v = s.trim().toLowerCase();
  if (v === 'person' || v === '1') return 1;
  if (v === 'background' || v === '0') return 0;
  return null;
}

/** Reads a labels file (docs/design.md: CSV `start,end,label`, optional header, # comments). */
export function loadLabels(path: string): LabelSet {
  let text: string;
  try {
    text = fs.readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such labels file'
        : code === 'EISDIR'
          ? 'is a directory, expected a labels CSV'
          : `cannot read (${code})`;
    throw new UserError(`${path}: ${why}`);
  }
  const intervals: LabelInterval[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const where = `${path}:${i + 1}`;
    const cells = line.split(',');
    if (intervals.length === 0 && /^start\s*,\s*end\s*,\s*label$/i.test(line)) return;
    if (cells.length !== 3) throw new UserError(`${where}: expected 'start,end,label', got ${cells.length} fields`);
    const start = Number(cells[0]);
    const end = Number(cells[1]);
    if (
      cells[0].trim() === '' ||
      cells[1].trim() === '' ||
      !Number.isFinite(start) ||
      !Number.isFinite(end) ||
      start < 0
    ) {
      throw new UserError(`${where}: start and end must be seconds (epoch, or from the trace start when below 1e9)`);
    }
    if (end <= start)
      throw new UserError(`${where}: end (${cells[1].trim()}) must be after start (${cells[0].trim()})`);
    if (start < RELATIVE_BELOW !== end < RELATIVE_BELOW) {
      throw new UserError(`${where}: start and end must both be epoch seconds or both be seconds from the trace start`);
    }
    const label = parseLabel(cells[2]);
    if (label === null)
      throw new UserError(`${where}: label must be person, background, 1 or 0, got '${cells[2].trim()}'`);
    intervals.push({ start, end, label, relative: start < RELATIVE_BELOW });
  });
  if (intervals.length === 0)
    throw new UserError(`${path}: no label intervals in it (expected lines 'start,end,label')`);
  return new LabelSet(path, intervals);
}
