import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export type LabelName = 'person' | 'background';

/** One ground-truth interval in the labels format of docs/design.md (`start,end,label`, epoch seconds). */
export interface LabelLine {
  start: number;
  end: number;
  label: LabelName;
}

const LABELS_HEADER = 'start,end,label\n';

function formatLabelLine(l: LabelLine): string {
  return `${l.start.toFixed(3)},${l.end.toFixed(3)},${l.label}\n`;
}

const LABELS_NAME = 'spymate-labels.csv';

/** Where live labels are appended; `privateDir`: a directory to make first (0700, this user's own). */
export interface LabelsTarget {
  file: string;
  privateDir: string | null;
}

function writable(p: string, mode: number): boolean {
  try {
    fs.accessSync(p, mode);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where live labels go when the caller has no --out to put them beside, for the user the UI runs
 * as (after the monitor dropped root: the invoking user under sudo, root itself without sudo): the current
 * directory, else the database's directory, else a directory of that user's own in the temporary
 * directory, made at the first mark. The screen says which.
 */
export function defaultLabelsTarget(dbPath: string): LabelsTarget {
  for (const dir of [process.cwd(), path.dirname(path.resolve(dbPath))]) {
    const file = path.join(dir, LABELS_NAME);
    const ok = fs.existsSync(file)
      ? writable(file, fs.constants.W_OK)
      : writable(dir, fs.constants.W_OK | fs.constants.X_OK);
    if (ok) return { file, privateDir: null };
  }
  const dir = path.join(os.tmpdir(), `spymate-${process.getuid?.() ?? 'user'}`);
  return { file: path.join(dir, LABELS_NAME), privateDir: dir };
}

/** Makes `dir` 0700; one that is there already must be a directory of this user's, closed to others. */
function ensurePrivateDir(dir: string): void {
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const st = fs.lstatSync(dir);
  if (!st.isDirectory() || st.uid !== process.getuid?.() || (st.mode & 0o077) !== 0) {
    throw Object.assign(new Error(`${dir} is not a private directory of this user`), { code: 'EPERM' });
  }
}

/** Opens the labels file for appending, creating it 0600 with its header line when new or empty. */
function openLabels(file: string): number {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
  try {
    if (fs.fstatSync(fd).size === 0) fs.writeSync(fd, LABELS_HEADER);
    return fd;
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
}

/** Appends label lines, creating the file 0600 with its header line when new or empty. Opened per append: marks are rare. */
export function appendLabels(to: LabelsTarget, lines: readonly LabelLine[]): void {
  if (lines.length === 0) return;
  if (to.privateDir !== null) ensurePrivateDir(to.privateDir);
  const fd = openLabels(to.file);
  try {
    fs.writeSync(fd, lines.map(formatLabelLine).join(''));
  } finally {
    fs.closeSync(fd);
  }
}
