import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractTrace } from '../features/extract';
import { loadLabels } from '../features/labels';
import { FEATURE_NAMES } from '../features/names';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS, DEFAULT_WINDOW_MS } from '../features/pipeline';
import type { WindowRecord } from '../features/types';
import { loadRules } from '../rules/load';
import type { RuleSet } from '../rules/ruleset';
import type { Cidr } from '../flow/local';
import { UserError, usageError } from '../util/errors';
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
    return fs.readFileSync(file, 'utf8');
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

/** The call flows of a trace as sequences (windows in time order per flow). */
async function traceSequences(
  file: string,
  labelsFile: string | undefined,
  local: Cidr[],
  rules: RuleSet,
  o: DataOptions,
): Promise<Sequence[]> {
  const byFlow = new Map<string, WindowRecord[]>();
  const labels = labelsFile !== undefined ? loadLabels(labelsFile) : undefined;
  let cameraOff = 0;
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
        if (w.cameraOff) {
          cameraOff++;
          return;
        }
        let list = byFlow.get(w.flowID);
        if (!list) byFlow.set(w.flowID, (list = []));
        list.push({ ...w, features: Float64Array.from(w.features) });
      },
    },
  );
  for (const line of summary.warnings) o.notice(line);
  if (cameraOff > 0)
    o.notice(
      `${file}: ${cameraOff} window${cameraOff === 1 ? '' : 's'} with the local camera off left out (no video sent: see docs/monitor.md, "Camera off")`,
    );
  if (byFlow.size === 0)
    throw new UserError(`${file}: no video-call flows found (check --rules, or that the trace holds a call)`);
  const seqs = [...byFlow.entries()].map(([flow, ws]) => ({
    source: file,
    flow,
    times: Float64Array.from(ws, (w) => w.start),
    rows: ws.map((w) => w.features),
    labels: Int8Array.from(ws, (w) => (w.label === undefined ? -1 : w.label)),
  }));
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
