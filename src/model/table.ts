import { UserError } from '../util/errors';

/**
 * Window-feature tables (CSV, ARFF) become one sequence each: numeric feature columns and a
 * class column. Parsing is pure; notices (ignored columns) go to the caller's callback.
 */
export interface Table {
  file: string;
  /** header names of the usable numeric columns */
  features: string[];
  rows: Float64Array[];
  labels: Int8Array;
}

export interface TableOptions {
  /** class column name; default the last column */
  labelColumn?: string;
  /**
   * predict: the table may have no class column (`spymate extract` without --labels). Without
   * --label-column the last column is then the class only if its name says so.
   */
  classOptional?: boolean;
  notice: (line: string) => void;
}

export interface RawColumn {
  name: string;
  /** ARFF: declared nominal/string/date (not numeric) */
  nominal?: boolean;
}

/** Header names that mark a class column (extract writes `label`; the Spy Your Mate CSVs `Person`). */
const CLASS_NAMES = /^(label|class|person|presence)$/i;

/** person/background/1/0/true/false (case-insensitive; 1.0/0.0 too) → 1/0; else null */
function parseClass(v: string): 0 | 1 | null {
  const s = v
    .trim()
    .toLowerCase()
    .replace(/^["']|["']$/g, '');
  if (s === 'person' || s === 'true' || s === 'yes') return 1;
  if (s === 'background' || s === 'false' || s === 'no') return 0;
  const n = Number(s);
  if (s !== '' && (n === 1 || n === 0)) return n;
  return null;
}

function isNumeric(s: string): boolean {
  const t = s.trim();
  return t === '' || t === '?' || Number.isFinite(Number(t)) || /^[-+]?(nan|inf(inity)?)$/i.test(t);
}

function toNumber(s: string): number {
  const t = s.trim();
  if (t === '' || t === '?') return NaN;
  const n = Number(t);
  return Number.isNaN(n) && /^[-+]?inf/i.test(t) ? (t.startsWith('-') ? -Infinity : Infinity) : n;
}

/** A numeric column rising by the same non-zero step every row: a window index or a time stamp. */
function isClock(cells: string[][], j: number): boolean {
  if (cells.length < 3) return false;
  const first = toNumber(cells[0][j]);
  const step = toNumber(cells[1][j]) - first;
  if (!(step > 0)) return false;
  for (let r = 2; r < cells.length; r++) {
    if (Math.abs(toNumber(cells[r][j]) - first - r * step) > 1e-6 * Math.max(1, Math.abs(r * step))) return false;
  }
  return true;
}

/**
 * Builds a table from header + cells. `lines[i]` is the 1-based file line of cells[i] (for errors).
 */
function buildTable(file: string, header: RawColumn[], cells: string[][], lines: number[], o: TableOptions): Table {
  const names = header.map((h) => h.name);
  let li = names.length - 1;
  if (o.labelColumn !== undefined) {
    li = names.indexOf(o.labelColumn);
    if (li < 0) {
      throw new UserError(
        `${file}: no column '${o.labelColumn}' for the class (columns: ${names.map((n) => n || '""').join(', ')}); choose one with --label-column`,
      );
    }
  }
  if (names.length === 0) throw new UserError(`${file}: no columns`);
  if (o.classOptional && o.labelColumn === undefined && !CLASS_NAMES.test(names[li].trim())) li = -1;
  cells.forEach((row, r) => {
    if (row.length !== header.length) {
      throw new UserError(
        `${file}:${lines[r]}: ${row.length} fields but the header has ${header.length}; every row needs one value per column`,
      );
    }
  });
  const labels = new Int8Array(cells.length).fill(-1);
  if (li >= 0)
    cells.forEach((row, r) => {
      // a window no label interval covered: `extract --labels` leaves it empty (CSV) or '?' (ARFF);
      // it feeds the temporal context but is neither trained on nor scored
      const cell = row[li].trim();
      if (cell === '' || cell === '?') {
        labels[r] = -1;
        return;
      }
      const c = parseClass(cell);
      if (c === null) {
        throw new UserError(
          `${file}:${lines[r]}: class '${row[li].trim()}' in column '${names[li]}' is not person/background/1/0/true/false (is --label-column right?)`,
        );
      }
      labels[r] = c;
    });
  const keep: number[] = [];
  const dropped: string[] = [];
  const clocks: string[] = [];
  header.forEach((h, j) => {
    if (j === li) return;
    if (h.name.trim() === '') {
      o.notice(`${file}: ignoring column ${j + 1} with an empty header (a saved row index)`);
      return;
    }
    if (h.nominal || !cells.every((row) => isNumeric(row[j]))) {
      dropped.push(h.name);
      return;
    }
    if (isClock(cells, j)) {
      clocks.push(h.name);
      return;
    }
    keep.push(j);
  });
  if (clocks.length > 0)
    o.notice(
      `${file}: ignoring column${clocks.length > 1 ? 's' : ''} ${clocks.map((d) => `'${d}'`).join(', ')} that count${clocks.length > 1 ? '' : 's'} windows or time (a constant step says nothing about presence)`,
    );
  if (dropped.length > 0)
    o.notice(
      `${file}: ignoring non-numeric column${dropped.length > 1 ? 's' : ''} ${dropped.map((d) => `'${d}'`).join(', ')}`,
    );
  if (keep.length === 0)
    throw new UserError(
      `${file}: no numeric feature columns${li >= 0 ? ` besides the class column '${names[li]}'` : ''}`,
    );
  const rows = cells.map((row) => Float64Array.from(keep, (j) => toNumber(row[j])));
  return { file, features: keep.map((j) => names[j]), rows, labels };
}

/** Splits one CSV line (RFC 4180 quotes; no embedded newlines in fields). */
function splitCsvLine(line: string, sep = ','): string[] {
  if (!line.includes('"')) return line.split(sep);
  const out: string[] = [];
  let cur = '';
  let q = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (q) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') q = false;
      else cur += ch;
    } else if (ch === '"') q = true;
    else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseCsvTable(file: string, text: string, o: TableOptions): Table {
  const lines = text.split(/\r?\n/);
  let h = 0;
  while (h < lines.length && lines[h].trim() === '') h++;
  if (h >= lines.length) throw new UserError(`${file}: empty CSV (expected a header row, then one row per window)`);
  const header = splitCsvLine(lines[h]).map((name) => ({ name: name.trim() }));
  const cells: string[][] = [];
  const at: number[] = [];
  for (let i = h + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue;
    cells.push(splitCsvLine(lines[i]));
    at.push(i + 1);
  }
  if (cells.length === 0) throw new UserError(`${file}: header only, no windows`);
  return buildTable(file, header, cells, at, o);
}

/** WEKA ARFF: @attribute NAME numeric|real|integer|{a,b,…}|string|date; dense @data rows. */
export function parseArffTable(file: string, text: string, o: TableOptions): Table {
  const lines = text.split(/\r?\n/);
  const header: RawColumn[] = [];
  const nominalValues = new Map<string, string>();
  let i = 0;
  for (; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('%')) continue;
    const m = /^@(\w+)\s*(.*)$/.exec(line);
    if (!m) throw new UserError(`${file}:${i + 1}: expected an @relation, @attribute or @data line`);
    const kw = m[1].toLowerCase();
    if (kw === 'relation') continue;
    if (kw === 'data') break;
    if (kw !== 'attribute') throw new UserError(`${file}:${i + 1}: unknown ARFF keyword @${m[1]}`);
    const a = /^('(?:[^']*)'|"(?:[^"]*)"|\S+)\s+(.+)$/.exec(m[2]);
    if (!a) throw new UserError(`${file}:${i + 1}: @attribute needs a name and a type`);
    const name = a[1].replace(/^['"]|['"]$/g, '');
    const type = a[2].trim();
    const numeric = /^(numeric|real|integer)$/i.test(type);
    if (!numeric && !type.startsWith('{') && !/^(string|date)/i.test(type)) {
      throw new UserError(
        `${file}:${i + 1}: attribute '${name}' has type '${type}' that spymate cannot read (numeric, real, integer, {nominal}, string, date)`,
      );
    }
    header.push({ name, nominal: !numeric });
    if (type.startsWith('{')) nominalValues.set(name, type);
  }
  if (i >= lines.length) throw new UserError(`${file}: no @data section (is this an ARFF file?)`);
  const cells: string[][] = [];
  const at: number[] = [];
  for (i++; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '' || line.startsWith('%')) continue;
    if (line.startsWith('{'))
      throw new UserError(`${file}:${i + 1}: sparse ARFF rows are not supported; save the data as dense ARFF or CSV`);
    cells.push(splitCsvLine(line).map((c) => c.trim().replace(/^'(.*)'$/, '$1')));
    at.push(i + 1);
  }
  if (cells.length === 0) throw new UserError(`${file}: no rows after @data`);
  const classCol = o.labelColumn ?? header[header.length - 1]?.name;
  const values = classCol !== undefined ? nominalValues.get(classCol) : undefined;
  if (values !== undefined) {
    const vs = values
      .slice(1, -1)
      .split(',')
      .map((v) => v.trim());
    if (!vs.every((v) => parseClass(v) !== null)) {
      throw new UserError(
        `${file}: class attribute '${classCol}' has values ${values}; presence needs person/background (or 1/0, true/false) — pick another with --label-column`,
      );
    }
  }
  return buildTable(file, header, cells, at, o);
}
