import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractTrace } from '../features/extract';
import { loadLabels } from '../features/labels';
import { FEATURE_NAMES, otherSide } from '../features/names';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS, DEFAULT_WINDOW_MS } from '../features/pipeline';
import type { WindowRecord } from '../features/types';
import { loadRules } from '../rules/load';
import type { RuleSet } from '../rules/ruleset';
import type { Cidr } from '../flow/local';
import { UserError, usageError } from '../util/errors';
import { readBoundedText } from '../util/read-text';
import { parseArffTable, parseCsvTable, type Table } from './table';
import type { DataSet, Sequence, TrainingInput } from './types';

export interface DataOptions {
  /** label files, paired in order with the traces among the inputs */
  labels: string[];
  labelColumn?: string;
  /** selected feature names (default: all) */
  features?: string[];
  /** window length for traces (ms) */
  windowMs?: number;
  rules?: string;
  local: Cidr[];
  /** one address range per trace, paired in order with the traces: ours in that trace only */
  localEach?: Cidr[];
  /** inputs need labels (train/eval) or not (predict: traces without --labels, tables without a class column) */
  needLabels: boolean;
  notice: (line: string) => void;
  /**
   * whose camera a trace's windows are about: the local side's (what it sends, the default), the
   * remote side's (what the local side receives), as the monitor's two presence columns, or both
   * (each call twice; the remote side's sequences marked `remote`)
   */
  side?: 'local' | 'remote' | 'both';
  /** called after each input file is read */
  onFile?: (done: number) => void;
}

export type InputKind = 'csv' | 'arff' | 'trace';

function inputKind(file: string): InputKind {
  const ext = path.extname(file).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.arff') return 'arff';
  return 'trace';
}

function sha256File(file: string): string {
  const h = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    let n: number;
    while ((n = fs.readSync(fd, buf, 0, buf.length, null)) > 0) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('hex');
}

function readText(file: string): string {
  try {
    return readBoundedText(file, 'a CSV or ARFF file');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`${file}: no such file`);
    if (code === 'EISDIR') throw new UserError(`${file}: is a directory, expected a CSV or ARFF file`);
    throw err;
  }
}

function tableSequence(t: Table, windowS: number): Sequence {
  return {
    source: t.file,
    flow: path.basename(t.file),
    times: Float64Array.from(t.rows, (_, i) => i * windowS),
    rows: t.rows,
    labels: t.labels,
  };
}

/** The features of a window as the remote side would name them: `out_x` holds what the remote side sent. */
const MIRROR = FEATURE_NAMES.map((n) => FEATURE_NAMES.indexOf(otherSide(n)));

/** A side's windows of one call, in time order. */
type SideWindows = Map<string, WindowRecord[]>;

function push(by: SideWindows, w: WindowRecord, features: Float64Array): void {
  let list = by.get(w.flowID);
  if (!list) by.set(w.flowID, (list = []));
  list.push({ ...w, features });
}

/** The call flows of a trace as sequences (windows in time order per flow), of one camera or both. */
async function traceSequences(
  file: string,
  labelsFile: string | undefined,
  local: Cidr[],
  rules: RuleSet,
  o: DataOptions,
): Promise<Sequence[]> {
  const side = o.side ?? 'local';
  const [mine, theirs]: [SideWindows, SideWindows] = [new Map(), new Map()];
  const labels = labelsFile !== undefined ? loadLabels(labelsFile) : undefined;
  let noPicture = 0;
  const summary = await extractTrace(
    file,
    {
      windowMs: o.windowMs ?? DEFAULT_WINDOW_MS,
      rules,
      local,
      idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
      maxFlows: DEFAULT_MAX_FLOWS,
      labels,
    },
    {
      callStart: () => undefined,
      callEnd: () => undefined,
      window: (w) => {
        // as in the monitor: with no video sent there is no presence to learn or to score
        if (side !== 'remote') {
          if (w.sent === 'video') push(mine, w, Float64Array.from(w.features));
          else noPicture++;
        }
        if (side !== 'local') {
          if (w.received === 'video')
            push(
              theirs,
              w,
              Float64Array.from(MIRROR, (i) => w.features[i]),
            );
          else if (side === 'remote') noPicture++;
        }
      },
    },
  );
  for (const line of summary.warnings) o.notice(line);
  if (noPicture > 0)
    o.notice(
      `${file}: ${noPicture} window${noPicture === 1 ? '' : 's'} in which the ${side === 'remote' ? 'remote' : 'local'} side sent no video ` +
        'left out (camera off, or no media: see docs/monitor.md, "Camera off")',
    );
  if (mine.size === 0 && theirs.size === 0)
    throw new UserError(`${file}: no video-call flows found (check --rules, or that the trace holds a call)`);
  const sequences = (by: SideWindows, remote: boolean): Sequence[] =>
    [...by.entries()].map(([flow, ws]) => ({
      source: file,
      flow,
      times: Float64Array.from(ws, (w) => w.start),
      rows: ws.map((w) => w.features),
      // with both cameras the labels given are the local camera's: the remote one's windows are unlabelled
      labels: Int8Array.from(ws, (w) => (w.label === undefined || (remote && side === 'both') ? -1 : w.label)),
      ...(remote && side === 'both' ? { remote: true as const } : {}),
    }));
  const seqs = [...sequences(mine, false), ...sequences(theirs, true)];
  if (labels && !seqs.some((s) => s.labels.some((l) => l >= 0))) {
    throw new UserError(
      `${labelsFile}: its intervals cover no window of the calls in ${file} (a window counts only if wholly inside one interval; times are epoch seconds, or seconds from the trace start when below 1e9)`,
    );
  }
  return seqs;
}

/** Keeps `want` columns (by name) of a sequence whose columns are `have`. */
function project(seq: Sequence, have: readonly string[], want: readonly string[]): Sequence {
  if (have.length === want.length && have.every((n, i) => n === want[i])) return seq;
  const idx = want.map((n) => have.indexOf(n));
  return { ...seq, rows: seq.rows.map((r) => Float64Array.from(idx, (j) => r[j])) };
}

/** Reads every input into sequences with one common, ordered feature list. */
export async function loadDataSet(files: readonly string[], o: DataOptions): Promise<DataSet> {
  if (files.length === 0) throw usageError('give at least one DATA file (trace, CSV or ARFF)');
  const traces = files.filter((f) => inputKind(f) === 'trace');
  if (o.labels.length > 0 && o.labels.length !== traces.length) {
    throw usageError(
      `${o.labels.length} --labels file(s) for ${traces.length} trace(s): give one labels file per trace, in the same order`,
    );
  }
  if (o.localEach && o.localEach.length !== traces.length) {
    throw usageError(
      `${o.localEach.length} --local-each range(s) for ${traces.length} trace(s): give one per trace, in the same order`,
    );
  }
  if (o.needLabels && traces.length > 0 && o.labels.length === 0) {
    throw usageError(`traces need ground truth: add --labels FILE for each trace (${traces.join(', ')})`);
  }
  let features: string[] | null = null;
  let windowMs: number | null = null;
  let rules: RuleSet | undefined;
  let traceNo = 0;
  const sequences: Sequence[] = [];
  const inputs: TrainingInput[] = [];
  for (const file of files) {
    const kind = inputKind(file);
    let seqs: Sequence[];
    let have: readonly string[];
    if (kind === 'trace') {
      rules ??= loadRules(o.rules);
      const local = o.localEach ? [...o.local, o.localEach[traceNo]] : o.local;
      seqs = await traceSequences(file, o.labels[traceNo], local, rules, o);
      traceNo++;
      have = FEATURE_NAMES;
      windowMs = o.windowMs ?? DEFAULT_WINDOW_MS;
    } else {
      const opts = { labelColumn: o.labelColumn, notice: o.notice, classOptional: !o.needLabels };
      const text = readText(file);
      const t = kind === 'csv' ? parseCsvTable(file, text, opts) : parseArffTable(file, text, opts);
      seqs = [tableSequence(t, (o.windowMs ?? DEFAULT_WINDOW_MS) / 1000)];
      have = t.features;
      // a table does not say its window length; --window declares it (then the model records it)
      if (windowMs === null && o.windowMs !== undefined) windowMs = o.windowMs;
    }
    if (features === null) {
      features = o.features ?? [...have];
      const missing = features.filter((f) => !have.includes(f));
      if (missing.length > 0)
        throw new UserError(`${file}: no feature ${missing.join(', ')} (it has: ${have.join(', ')})`);
    } else {
      const missing = features.filter((f) => !have.includes(f));
      if (missing.length > 0)
        throw new UserError(
          `${file}: lacks feature${missing.length > 1 ? 's' : ''} ${missing.join(', ')} that ${files[0]} has; all inputs need the same features`,
        );
    }
    const want = features;
    const projected = seqs.map((s) => project(s, have, want));
    sequences.push(...projected);
    inputs.push({
      file: path.basename(file),
      sha256: sha256File(file),
      sequences: projected.length,
      windows: projected.reduce((a, s) => a + s.rows.length, 0),
      labelled: projected.reduce((a, s) => a + s.labels.reduce((b, l) => b + (l >= 0 ? 1 : 0), 0), 0),
    });
    o.onFile?.(inputs.length);
  }
  return { features: features ?? [], windowMs, sequences, inputs };
}

/** --features "a,b,c" */
export function parseFeatureList(v: string): string[] {
  const list = v
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (list.length === 0) throw usageError('--features needs a comma-separated list of feature names');
  return list;
}
