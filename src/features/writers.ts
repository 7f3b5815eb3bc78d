import { FEATURE_NAMES } from './names';
import type { FdOutput } from './output';
import type { WindowRecord } from './types';

export type OutputFormat = 'csv' | 'ndjson' | 'arff';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['csv', 'ndjson', 'arff'];

/** The leading columns of a window record (docs/design.md, "Window records"), then FEATURE_NAMES, then `label`. */
export const RECORD_COLUMNS = [
  'flowID',
  'app',
  'srcIP',
  'srcPort',
  'desIP',
  'desPort',
  'protocol',
  'start',
  'end',
  'packets',
  'bytes',
  'callCertainty',
] as const;

export interface RecordWriter {
  write(w: WindowRecord): void;
  /** writes what is buffered and closes the output */
  close(): void;
}

/** The format an output path asks for by its extension (null when it does not say). */
export function formatFromPath(p: string): OutputFormat | null {
  const m = /\.([a-z]+)$/i.exec(p);
  const ext = m ? m[1].toLowerCase() : '';
  if (ext === 'csv') return 'csv';
  if (ext === 'ndjson' || ext === 'jsonl' || ext === 'json') return 'ndjson';
  if (ext === 'arff') return 'arff';
  return null;
}

/** Float64Array.prototype.join is slow; a plain loop is several times faster. */
function joinFeatures(f: Float64Array): string {
  let s = '';
  for (let i = 0; i < f.length; i++) s += i === 0 ? String(f[i]) : ',' + f[i];
  return s;
}

/**
 * The leading columns, RECORD_COLUMNS order; `q` quotes the text ones (ARFF) or not (CSV).
 * The flow's columns are the same in every window of a call, so they are formatted once per flow.
 */
class RowHead {
  private readonly flows = new Map<string, string>();

  constructor(private readonly q: (s: string) => string) {}

  of(w: WindowRecord): string {
    let flow = this.flows.get(w.flowID);
    if (flow === undefined) {
      const q = this.q;
      flow =
        q(w.flowID) +
        ',' +
        q(w.app) +
        ',' +
        q(w.srcIP) +
        ',' +
        w.srcPort +
        ',' +
        q(w.desIP) +
        ',' +
        w.desPort +
        ',' +
        q(w.protocol) +
        ',';
      // bounded: a long capture sees many calls come and go
      if (this.flows.size >= 4096) this.flows.clear();
      this.flows.set(w.flowID, flow);
    }
    return flow + w.start + ',' + w.end + ',' + w.packets + ',' + w.bytes + ',' + w.callCertainty;
  }
}

const asIs = (s: string): string => s;

/**
 * CSV and ARFF rows are the same comma-separated line; they differ in the header, how a text
 * cell is quoted and how a window without a label is written.
 */
class RowWriter implements RecordWriter {
  private readonly head: RowHead;

  constructor(
    private readonly out: FdOutput,
    private readonly labelled: boolean,
    header: string,
    quote: (s: string) => string,
    private readonly noLabel: string,
  ) {
    this.head = new RowHead(quote);
    out.write(header);
  }

  write(w: WindowRecord): void {
    let line = this.head.of(w) + ',' + joinFeatures(w.features);
    if (this.labelled) line += ',' + (w.label ?? this.noLabel);
    this.out.write(line + '\n');
  }

  close(): void {
    this.out.close();
  }
}

function csvHeader(labelled: boolean): string {
  return [...RECORD_COLUMNS, ...FEATURE_NAMES, ...(labelled ? ['label'] : [])].join(',') + '\n';
}

const ARFF_STRING_COLUMNS = new Set(['flowID', 'app', 'srcIP', 'desIP', 'protocol']);

function arffString(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** WEKA's ARFF: string attributes for the identifiers, numeric for the rest, class {0,1}. */
function arffHeader(labelled: boolean): string {
  const lines = [
    '% spymate window features: one row per (call flow, window); see docs/design.md',
    '@relation spymate-windows',
    '',
  ];
  for (const c of RECORD_COLUMNS) lines.push(`@attribute ${c} ${ARFF_STRING_COLUMNS.has(c) ? 'string' : 'numeric'}`);
  for (const n of FEATURE_NAMES) lines.push(`@attribute ${n} numeric`);
  if (labelled) lines.push('@attribute label {0,1}');
  lines.push('', '@data', '');
  return lines.join('\n');
}

class NdjsonWriter implements RecordWriter {
  constructor(
    private readonly out: FdOutput,
    private readonly labelled: boolean,
  ) {}

  write(w: WindowRecord): void {
    const o: Record<string, string | number | null> = {};
    for (const c of RECORD_COLUMNS) o[c] = w[c];
    FEATURE_NAMES.forEach((n, i) => (o[n] = w.features[i]));
    if (this.labelled) o.label = w.label ?? null;
    this.out.write(JSON.stringify(o) + '\n');
  }

  close(): void {
    this.out.close();
  }
}

export function createWriter(format: OutputFormat, out: FdOutput, labelled: boolean): RecordWriter {
  switch (format) {
    // a window not wholly inside one labelled interval has no label: an empty cell, ARFF's '?'
    case 'csv':
      return new RowWriter(out, labelled, csvHeader(labelled), asIs, '');
    case 'ndjson':
      return new NdjsonWriter(out, labelled);
    case 'arff':
      return new RowWriter(out, labelled, arffHeader(labelled), arffString, '?');
  }
}
