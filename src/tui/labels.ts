import fs from 'node:fs';
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

/** Where live labels go when the caller has no --out to put them beside. */
export function defaultLabelsPath(): string {
  return path.resolve('spymate-labels.csv');
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

/**
 * Creates the labels file ahead. The monitor calls it for the labels file beside --out before it
 * drops root, and chowns it with its other outputs: the dropped user may not create files there.
 */
export function createLabelsFile(file: string): void {
  fs.closeSync(openLabels(file));
}

/** Appends label lines, creating the file as createLabelsFile does. Opened per append: marks are rare. */
export function appendLabels(file: string, lines: readonly LabelLine[]): void {
  if (lines.length === 0) return;
  const fd = openLabels(file);
  try {
    fs.writeSync(fd, lines.map(formatLabelLine).join(''));
  } finally {
    fs.closeSync(fd);
  }
}
