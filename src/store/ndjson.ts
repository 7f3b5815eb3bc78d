import type { EndReason } from '../flow/types';
import { UserError } from '../util/errors';
import type { FlowKeyFields, LiveRecord, Presence } from './types';

const END_REASONS: ReadonlySet<string> = new Set(['fin', 'rst', 'media-stop', 'timeout', 'evicted', 'end-of-trace']);
const PRESENCES: ReadonlySet<string> = new Set(['person', 'background', 'camera-off', 'unknown']);

/** JSON has no NaN/Infinity: features that are not finite are written as null. */
function num(v: number): string {
  return Number.isFinite(v) ? String(v) : 'null';
}

/**
 * One record as one NDJSON line (without the newline), keys in the documented order; feature keys
 * from quotedKeys(). Built by hand: JSON.stringify would need an object first.
 */
export function recordToJson(r: LiveRecord, quotedNames: readonly string[]): string {
  let s =
    `{"event":"${r.event}","flowID":${JSON.stringify(r.flowID)},"app":${JSON.stringify(r.app)},` +
    `"srcIP":"${r.srcIP}","srcPort":${r.srcPort},"desIP":"${r.desIP}","desPort":${r.desPort},` +
    `"protocol":"${r.protocol}","start":${num(r.start)},"end":${num(r.end)},"packets":${r.packets},"bytes":${r.bytes}` +
    `,"callCertainty":${num(r.callCertainty)}`;
  if (r.event === 'window') {
    const f = r.features;
    for (let i = 0; i < quotedNames.length; i++) s += `,${quotedNames[i]}:${num(f[i])}`;
    s +=
      `,"presence":"${r.presence}","probability":${r.probability === null ? 'null' : num(r.probability)}` +
      `,"raw":${r.raw === null ? 'null' : r.raw},"rawProbability":${r.rawProbability === null ? 'null' : num(r.rawProbability)}` +
      `,"certainty":${r.certainty === null ? 'null' : num(r.certainty)}}`;
  } else {
    if (r.callReason !== undefined) s += `,"callReason":${JSON.stringify(r.callReason)}`;
    s += r.reason ? `,"reason":"${r.reason}"}` : '}';
  }
  return s;
}

/** Feature names quoted once, for recordToJson. */
export function quotedKeys(names: readonly string[]): string[] {
  return names.map((n) => JSON.stringify(n));
}

function field<T>(o: Record<string, unknown>, key: string, type: 'string' | 'number', where: string): T {
  const v = o[key];
  if (typeof v !== type)
    throw new UserError(
      `${where}: '${key}' is missing or not a ${type} (is this a file written by spymate-tui --out?)`,
    );
  return v as T;
}

function nullableNumber(o: Record<string, unknown>, key: string): number | null {
  const v = o[key];
  return typeof v === 'number' ? v : null;
}

/**
 * Parses one NDJSON line written by recordToJson back into a record. `where` is "FILE:LINE" for
 * the error. Features missing from the line (another spymate version) read as NaN.
 */
export function parseRecordLine(line: string, featureNames: readonly string[], where: string): LiveRecord {
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    throw new UserError(`${where}: not a JSON object (expected NDJSON records written by spymate-tui --out)`);
  }
  if (!o || typeof o !== 'object' || Array.isArray(o)) {
    throw new UserError(`${where}: not a JSON object (expected NDJSON records written by spymate-tui --out)`);
  }
  const rec = o as Record<string, unknown>;
  const event = rec.event;
  const base: FlowKeyFields = {
    flowID: field<string>(rec, 'flowID', 'string', where),
    app: field<string>(rec, 'app', 'string', where),
    srcIP: field<string>(rec, 'srcIP', 'string', where),
    srcPort: field<number>(rec, 'srcPort', 'number', where),
    desIP: field<string>(rec, 'desIP', 'string', where),
    desPort: field<number>(rec, 'desPort', 'number', where),
    protocol: field<string>(rec, 'protocol', 'string', where),
    start: field<number>(rec, 'start', 'number', where),
    end: field<number>(rec, 'end', 'number', where),
    packets: field<number>(rec, 'packets', 'number', where),
    bytes: field<number>(rec, 'bytes', 'number', where),
    // records written before call certainty existed came from the rules alone
    callCertainty: nullableNumber(rec, 'callCertainty') ?? 1,
  };
  if (event === 'window') {
    const features = new Float64Array(featureNames.length);
    for (let i = 0; i < featureNames.length; i++) {
      const v = rec[featureNames[i]];
      features[i] = typeof v === 'number' ? v : NaN;
    }
    const presence = String(rec.presence ?? 'unknown');
    const raw = rec.raw;
    return {
      ...base,
      event,
      features,
      presence: (PRESENCES.has(presence) ? presence : 'unknown') as Presence,
      probability: nullableNumber(rec, 'probability'),
      raw: raw === 1 || raw === 0 ? raw : null,
      rawProbability: nullableNumber(rec, 'rawProbability'),
      certainty: nullableNumber(rec, 'certainty'),
    };
  }
  if (event === 'start' || event === 'end') {
    const reason = rec.reason;
    if (event === 'end' && (typeof reason !== 'string' || !END_REASONS.has(reason))) {
      throw new UserError(`${where}: end event without a known 'reason' (one of ${[...END_REASONS].join(', ')})`);
    }
    if (event === 'end') return { ...base, event, reason: reason as EndReason };
    return typeof rec.callReason === 'string' ? { ...base, event, callReason: rec.callReason } : { ...base, event };
  }
  throw new UserError(`${where}: 'event' must be "window", "start" or "end", got ${JSON.stringify(event)}`);
}

/**
 * The last line of a sensor's or exporter's --headless stream: {"event":"summary",...} with what
 * the PostgreSQL store and the IPFIX exporter did. Not a record: --records skips it.
 */
export function summaryToJson(summary: Record<string, unknown>): string {
  return JSON.stringify({ event: 'summary', ...summary });
}

export function isSummaryLine(line: string): boolean {
  return line.startsWith('{"event":"summary"');
}
