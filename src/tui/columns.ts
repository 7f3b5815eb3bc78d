import { usageError } from '../util/errors';
import type { FlowRow, SortKey } from '../store/view-types';

/** What a column needs besides its row: the start of monitoring and the pipeline's clock. */
export interface ColumnContext {
  monitorStart: number | null;
  clock: number | null;
}

export interface ColumnDef {
  /** positional number on the command line: 0-14 are the Skype Traffic Detector's Table VI */
  num: number;
  /** name on the command line */
  name: string;
  /** the header text, when it says more than the name */
  header?: string;
  /** for a presence column: the presence word of a row, which colours the cell */
  presence?: (row: FlowRow) => string;
  meaning: string;
  /** narrowest and widest the column is drawn; content wider than maxWidth is truncated */
  minWidth: number;
  maxWidth: number;
  align: 'left' | 'right';
  text(row: FlowRow, ctx: ColumnContext): string;
  /** what the database sorts by for this column: the same order as the text's values (no value last) */
  sort: SortKey;
}

const DASH = '-';

function fixed(n: number | null, digits: number): string {
  return n === null || !Number.isFinite(n) ? DASH : n.toFixed(digits);
}

/** 1234567 → "1.2M": short enough for a column, the exact count is in the details view. */
export function humanCount(n: number, unit = ''): string {
  const abs = Math.abs(n);
  const steps: Array<[number, string]> = [
    [1e12, 'T'],
    [1e9, 'G'],
    [1e6, 'M'],
    [1e3, 'k'],
  ];
  for (const [size, suffix] of steps) {
    if (abs >= size) return `${(n / size).toFixed(n / size >= 100 ? 0 : 1)}${suffix}${unit}`;
  }
  return `${Math.round(n)}${unit}`;
}

export function humanBitrate(bps: number): string {
  return humanCount(bps, 'b/s');
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** Local wall-clock date and time, as `date '+%F %T'` prints it. */
export function formatDateTime(epochS: number): string {
  const d = new Date(epochS * 1000);
  return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
}

/** A row of the view over many sensors counts from its own sensor's start and clock. */
function sinceStart(ts: number, row: FlowRow, ctx: ColumnContext): number | null {
  const start = row.sensor_start !== undefined ? row.sensor_start : ctx.monitorStart;
  return start === null ? null : ts - start;
}

/** The pipeline's clock for a row: its own sensor's in the view over many sensors. */
function clockOf(row: FlowRow, ctx: ColumnContext): number | null {
  return row.sensor_clock !== undefined ? row.sensor_clock : ctx.clock;
}

function timeLeft(row: FlowRow, ctx: ColumnContext): number | null {
  if (row.ended) return 0;
  const clock = clockOf(row, ctx);
  return clock === null ? null : Math.max(0, row.timeout_at - clock);
}

/** 45 → "45s", 245 → "4m05s", 7380 → "2h03m": how long, at a glance. */
export function humanDuration(s: number): string {
  const t = Math.max(0, Math.floor(s));
  if (t < 60) return `${t}s`;
  if (t < 3600) return `${Math.floor(t / 60)}m${pad2(t % 60)}s`;
  return `${Math.floor(t / 3600)}h${pad2(Math.floor((t % 3600) / 60))}m`;
}

/** How long a presence has been what it is now, on the pipeline's clock; "ended" once the call has. */
function since(at: (row: FlowRow) => number | null): (row: FlowRow, ctx: ColumnContext) => string {
  return (row, ctx) => {
    if (row.ended) return 'ended';
    const t = at(row);
    const clock = clockOf(row, ctx);
    return t === null || t === undefined || clock === null ? DASH : humanDuration(clock - t);
  };
}

function ringTime(row: FlowRow): number | null {
  return row.media_ts === null ? null : row.media_ts - row.first_ts;
}

function presenceShare(row: FlowRow): number | null {
  // without a model no window is classified: say nothing rather than 0 %
  if (row.windows === 0 || (row.presence === 'unknown' && row.person_windows === 0)) return null;
  return (100 * row.person_windows) / row.windows;
}

type Def = Omit<ColumnDef, 'num'>;

function num(
  name: string,
  meaning: string,
  width: number,
  sort: SortKey,
  value: (row: FlowRow, ctx: ColumnContext) => number | null,
  show: (v: number) => string,
): Def {
  return {
    name,
    meaning,
    minWidth: Math.max(width, name.length),
    maxWidth: Math.max(width, name.length),
    align: 'right',
    text: (row, ctx) => {
      const v = value(row, ctx);
      return v === null || !Number.isFinite(v) ? DASH : show(v);
    },
    sort,
  };
}

function str(
  name: string,
  meaning: string,
  minWidth: number,
  maxWidth: number,
  sort: SortKey,
  value: (row: FlowRow) => string,
): Def {
  return {
    name,
    meaning,
    minWidth: Math.max(minWidth, name.length),
    maxWidth: Math.max(maxWidth, name.length),
    align: 'left',
    text: value,
    sort,
  };
}

const seconds = (v: number): string => v.toFixed(1);

/** In number order: the position in this list is the column's number (a contract: docs/design.md, "Columns"). */
const DEFS: Def[] = [
  num(
    'certainty',
    "the classifier's confidence in presence (15), the local camera's label (0-100 %)",
    5,
    'certainty',
    (r) => r.certainty,
    (v) => `${Math.round(v)}%`,
  ),
  str('flowID', 'stable flow ID: the same trace replayed twice gives the same IDs', 8, 40, 'flow_id', (r) => r.flow_id),
  str('srcIP', 'local (or initiating) endpoint', 7, 39, 'src_ip', (r) => r.src_ip),
  num('srcPort', 'local port', 5, 'src_port', (r) => r.src_port, String),
  str('desIP', 'remote endpoint', 7, 39, 'des_ip', (r) => r.des_ip),
  num('desPort', 'remote port', 5, 'des_port', (r) => r.des_port, String),
  str('protocol', 'UDP / TCP', 3, 8, 'protocol', (r) => r.protocol),
  num(
    'datetimeStart',
    'wall-clock date and time of the first packet',
    19,
    'first_ts',
    (r) => r.first_ts,
    formatDateTime,
  ),
  num('datetimeEnd', 'wall-clock date and time of the last packet', 19, 'last_ts', (r) => r.last_ts, formatDateTime),
  num('timeOut', 'seconds left before the record times out', 5, 'timeLeft', timeLeft, (v) => v.toFixed(0)),
  num(
    'startTime',
    'seconds from the start of monitoring to the first packet',
    7,
    'first_ts',
    (r, c) => sinceStart(r.first_ts, r, c),
    seconds,
  ),
  num(
    'endTime',
    'seconds from the start of monitoring to the last packet',
    7,
    'last_ts',
    (r, c) => sinceStart(r.last_ts, r, c),
    seconds,
  ),
  num('duration', 'endTime - startTime, seconds', 7, 'duration', (r) => r.last_ts - r.first_ts, seconds),
  num(
    'ringTime',
    "seconds from the flow's first packet to its first media window (call set-up)",
    6,
    'ringTime',
    ringTime,
    seconds,
  ),
  str(
    'end',
    'call-end flag and why: fin, rst, media-stop, timeout, evicted, end-of-trace; "-" while the call lasts',
    3,
    12,
    'endFlag',
    (r) => (r.ended ? (r.end_reason ?? 'yes') : DASH),
  ),
  {
    ...str(
      'presence',
      "the local side's camera, from what it sends: person / background / camera-off (audio, no video) / no video " +
        '(no media at all) / unknown: the final (smoothed, causal) prediction for the last window',
      10,
      10,
      'presence',
      (r) => r.presence,
    ),
    header: 'local cam',
    presence: (r) => r.presence,
  },
  str('app', 'rule that picked the flow as a call (zoom, teams, meet, webrtc, ...)', 6, 12, 'app', (r) => r.app),
  num(
    'packets',
    'packets, both directions',
    7,
    'packets',
    (r) => r.packets,
    (v) => humanCount(v),
  ),
  num(
    'bytes',
    'bytes on the wire, both directions',
    6,
    'bytes',
    (r) => r.bytes,
    (v) => humanCount(v, 'B'),
  ),
  num('bitrate', 'bit/s over the last window, both directions', 9, 'bitrate', (r) => r.bitrate, humanBitrate),
  num(
    'presenceShare',
    'share of the windows so far predicted "person", %',
    5,
    'presenceShare',
    presenceShare,
    (v) => `${v.toFixed(0)}%`,
  ),
  num('windows', 'windows classified so far', 7, 'windows', (r) => r.windows, String),
  num(
    'probability',
    'P(person) of the last final prediction, 0..1',
    5,
    'probability',
    (r) => r.probability,
    (v) => fixed(v, 2),
  ),
  {
    ...str(
      'sensor',
      'capture host that stored the flow (the view over --store postgres://...)',
      6,
      20,
      // SQLite holds one host's flows: the key sorts nothing there (store/sort-sql.ts)
      'sensor',
      (r) => r.sensor ?? DASH,
    ),
  },
  num(
    'callCertainty',
    "how sure it is a call (0-100 %): 100 % when a rule named it, the call classifier's probability otherwise",
    5,
    'call_certainty',
    (r) => r.call_certainty ?? null,
    (v) => `${Math.round(v * 100)}%`,
  ),
  {
    name: 'since',
    meaning: 'how long the local camera\'s presence (15) has been what it is now; "ended" once the call has ended',
    minWidth: 5,
    maxWidth: 6,
    align: 'right',
    text: since((r) => r.presence_since),
    sort: 'since',
  },
  {
    ...str(
      'remotePresence',
      "the remote side's camera, from what the local side receives: the same words as presence (15)",
      10,
      10,
      'remote_presence',
      (r) => r.remote_presence,
    ),
    header: 'remote cam',
    presence: (r) => r.remote_presence,
  },
  {
    name: 'remoteSince',
    meaning: 'how long remotePresence (26) has been what it is now',
    header: 'r.since',
    minWidth: 7,
    maxWidth: 7,
    align: 'right',
    text: since((r) => r.remote_since),
    sort: 'remoteSince',
  },
  num(
    'remoteCertainty',
    "the classifier's confidence in remotePresence (0-100 %)",
    5,
    'remote_certainty',
    (r) => r.remote_certainty,
    (v) => `${Math.round(v)}%`,
  ),
  num(
    'run',
    'the run of the monitor that wrote the row (a run shows its own; --db FILE alone shows every run)',
    3,
    'run',
    // the view over many sensors keeps no runs
    (r) => (r.sensor === undefined ? r.run : null),
    String,
  ),
];

export const COLUMNS: readonly ColumnDef[] = DEFS.map((d, i) => ({ ...d, num: i }));

const BY_NAME = new Map(COLUMNS.map((c) => [c.name.toLowerCase(), c]));

export function columnByName(name: string): ColumnDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/**
 * Shown when the user names no columns, as many as fit the width, in this order: presence at a
 * glance first, then who talks to whom, then the rest. Table VI order would spend 80 columns on
 * addresses before the presence label.
 */
const DEFAULT_ORDER = [
  'presence',
  'remotePresence',
  'since',
  'certainty',
  'app',
  'srcIP',
  'desIP',
  'desPort',
  'bitrate',
  'duration',
  'srcPort',
  'protocol',
  'presenceShare',
  'packets',
  'bytes',
  'windows',
  'flowID',
  'ringTime',
  'timeOut',
  'end',
  'startTime',
  'endTime',
  'datetimeStart',
  'datetimeEnd',
  'probability',
  'callCertainty',
  'remoteSince',
  'remoteCertainty',
  'run',
];

const DEFAULT_COLUMNS: readonly ColumnDef[] = DEFAULT_ORDER.map((n) => columnByName(n) as ColumnDef);

/**
 * The view over many sensors: the default order with the sensor after the cameras and certainty.
 * `run` stays last: PostgreSQL keeps sensors instead of runs, and it reads `-` there.
 */
const VIEW_COLUMNS: readonly ColumnDef[] = DEFAULT_COLUMNS.flatMap((c) =>
  c.name === 'certainty' ? [c, columnByName('sensor') as ColumnDef] : [c],
);

/**
 * COLUMN arguments and --columns values → columns, in the order given, repeats dropped.
 * Each argument is a number or a name (case-insensitive), or a comma list of them.
 * No arguments → DEFAULT_COLUMNS (the view then keeps as many as fit), with `sensor` third in the
 * view over many sensors.
 */
export function resolveColumns(args: string[], sensors = false): ColumnDef[] {
  const tokens = args
    .flatMap((a) => a.split(','))
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (tokens.length === 0) return [...(sensors ? VIEW_COLUMNS : DEFAULT_COLUMNS)];
  const out: ColumnDef[] = [];
  for (const t of tokens) {
    const col = /^\d+$/.test(t) ? COLUMNS[Number(t)] : columnByName(t);
    if (!col) {
      const valid = COLUMNS.map((c) => `${c.num} ${c.name}`).join(', ');
      throw usageError(`unknown column '${t}'; valid columns are: ${valid} (see --list-columns)`);
    }
    if (!out.includes(col)) out.push(col);
  }
  return out;
}

/** The --list-columns text: number, name, meaning, one column a line. */
export function formatColumnList(): string {
  const nameWidth = Math.max(...COLUMNS.map((c) => c.name.length));
  const lines = COLUMNS.map(
    (c) =>
      `${String(c.num).padStart(2)}  ${c.name.padEnd(nameWidth)}  ${c.header ? `(header "${c.header}") ` : ''}${c.meaning}`,
  );
  return lines.join('\n');
}
