import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { extractTrace } from '../features/extract';
import { FLOW_FEATURE_NAMES } from '../features/flow-summary';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS, DEFAULT_WINDOW_MS } from '../features/pipeline';
import type { FlowInfo } from '../flow/types';
import type { RuleSet } from '../rules/ruleset';
import { UserError } from '../util/errors';
import {
  CALL_MODEL_FORMAT,
  CALL_MODEL_VERSION,
  type CallCvScores,
  type CallModelFile,
  type CallTrainingInput,
} from './call-model';
import { fitForest, forestProbability } from './forest';
import type { ForestParams } from './types';

/**
 * Training the call classifier: every flow of the given traces that passes the classifier's
 * gates is summarised (features/flow-summary.ts) and labelled call / not a call by a flow-labels
 * source; a random forest is fitted on them, and scored leave-one-capture-out.
 */

/** One judged flow of a trace, with its truth. */
export interface LabelledFlow {
  trace: string;
  key: string;
  x: Float64Array;
  /** the rule that named it as a call, or null */
  rule: string | null;
  label: 0 | 1;
}

/**
 * Where a trace's flow labels come from:
 *  - 'rules': the flows the rules name are calls, the rest are not (lab recordings of calls);
 *  - 'none': no flow is a call (recordings of other traffic: games, tunnels, downloads);
 *  - 'all': every flow that reaches the classifier is a call (recordings of calls alone);
 *  - a file: nDPI's per-flow verdicts (`ndpiReader -v` output, as in nDPI's test suite), or a CSV
 *    `protocol,srcIP,srcPort,desIP,desPort,label` (label call/other, or 1/0). Flows it does not
 *    list, or lists as unknown, STUN, DTLS or RTCP only, are left out.
 */
export type FlowLabelSource = 'rules' | 'none' | 'all' | { file: string; labels: Map<string, 0 | 1> };

/** Voice/video apps as nDPI names them (the last part of its protocol name). */
const NDPI_CALL_APPS = new Set([
  'Zoom', 'Skype_TeamsCall', 'GoogleCall', 'WhatsAppCall', 'TelegramVoip', 'Telegram', 'Discord', 'Webex', 'RTP',
  'SRTP', 'SignalVoip', 'Viber', 'IMO', 'LineCall', 'Line', 'SnapchatCall', 'WeChat', 'KakaoTalk_Voice', 'TeamSpeak',
  'FaceTime', 'Threema',
]); // prettier-ignore
/** Carriers under which a call app's name does not mean media we can see */
const NDPI_NOT_MEDIA = new Set(['DNS', 'TLS', 'QUIC', 'HTTP', 'MDNS']);
const NDPI_LINE = /^\s*\d+\s+(UDP|TCP)\s+(\S+):(\d+)\s+<?->\s+(\S+):(\d+)\s+.*?\[proto: ([^\]]+)\]/;

/** The app nDPI names in a verdict's protocol (`[proto: 78.24/STUN.WhatsAppCall]` → STUN, WhatsAppCall). */
export function ndpiApp(verdict: string): { carrier: string; name: string } {
  const names = verdict.replace(/^[\d.:A-Z]*?(\d+(\.\d+)*)\//, '').split('.');
  return { carrier: names.length > 1 ? names[0] : '', name: names[names.length - 1] };
}

/** Whether nDPI's verdict on a flow of `proto` (UDP/TCP) names call media: a call app's, not over a carrier we cannot see into. */
export function ndpiCallMedia(proto: string, app: { carrier: string; name: string }): boolean {
  return proto === 'UDP' && NDPI_CALL_APPS.has(app.name) && !NDPI_NOT_MEDIA.has(app.carrier);
}

function bare(addr: string): string {
  return addr.replace(/^\[|\]$/g, '');
}

/** Direction-free key of a flow: protocol and both endpoints, sorted. */
export function flowKey(protocol: string, a: string, ap: number, b: string, bp: number): string {
  const x = `${bare(a)}|${ap}`;
  const y = `${bare(b)}|${bp}`;
  return `${protocol.toUpperCase()} ${x < y ? `${x} ${y}` : `${y} ${x}`}`;
}

/** Reads a flow-labels file: nDPI verdicts or the CSV form. */
export function readFlowLabels(file: string): Map<string, 0 | 1> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`${file}: cannot read flow labels (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
  }
  const out = new Map<string, 0 | 1>();
  const lines = text.split(/\r?\n/);
  if (lines.some((l) => NDPI_LINE.test(l))) {
    for (const l of lines) {
      const m = NDPI_LINE.exec(l);
      if (!m) continue;
      const [, proto, a, ap, b, bp, app] = m;
      const named = ndpiApp(app);
      if (['STUN', 'DTLS', 'RTCP', 'Unknown'].includes(named.name)) continue;
      const call = ndpiCallMedia(proto, named);
      out.set(flowKey(proto, a, Number(ap), b, Number(bp)), call ? 1 : 0);
    }
    return out;
  }
  lines.forEach((l, i) => {
    const cells = l.split(',').map((c) => c.trim());
    if (l.trim() === '' || l.startsWith('#') || (i === 0 && cells[0].toLowerCase() === 'protocol')) return;
    const label = cells[5]?.toLowerCase();
    const value = label === 'call' || label === '1' ? 1 : label === 'other' || label === '0' ? 0 : null;
    if (cells.length < 6 || value === null || !/^\d+$/.test(cells[2]) || !/^\d+$/.test(cells[4])) {
      throw new UserError(
        `${file}:${i + 1}: expected protocol,srcIP,srcPort,desIP,desPort,label (label call/other or 1/0), or nDPI's verdict lines`,
      );
    }
    out.set(flowKey(cells[0], cells[1], Number(cells[2]), cells[3], Number(cells[4])), value);
  });
  return out;
}

function labelOf(source: FlowLabelSource, f: FlowInfo, rule: string | null): 0 | 1 | undefined {
  if (source === 'rules') return rule !== null ? 1 : 0;
  if (source === 'none') return 0;
  if (source === 'all') return 1;
  return source.labels.get(flowKey(f.protocol, f.srcIP, f.srcPort, f.desIP, f.desPort));
}

/** Runs a trace through the pipeline and returns its judged, labelled flows. */
export async function collectFlows(trace: string, rules: RuleSet, source: FlowLabelSource): Promise<LabelledFlow[]> {
  const out: LabelledFlow[] = [];
  const seen = new Set<string>();
  await extractTrace(
    trace,
    {
      windowMs: DEFAULT_WINDOW_MS,
      rules,
      local: [],
      idleTimeoutS: DEFAULT_IDLE_TIMEOUT_S,
      maxFlows: DEFAULT_MAX_FLOWS,
    },
    {
      callStart: () => undefined,
      window: () => undefined,
      callEnd: () => undefined,
      judged: (f, x, rule) => {
        const label = labelOf(source, f, rule);
        const key = flowKey(f.protocol, f.srcIP, f.srcPort, f.desIP, f.desPort);
        // a 5-tuple seen again later (after going idle) is the same conversation for the labels
        if (label === undefined || seen.has(key)) return;
        seen.add(key);
        out.push({ trace, key, x: Float64Array.from(x), rule, label });
      },
    },
  );
  return out;
}

const SHAPE_FEATURES = [
  'shape_rtp', 'shape_setup', 'shape_zoom', 'shape_tagged', 'shape_imo', 'shape_line', 'shape_viber',
].map((n) => FLOW_FEATURE_NAMES.indexOf(n as (typeof FLOW_FEATURE_NAMES)[number])); // prettier-ignore
const FIRST_BYTES = FLOW_FEATURE_NAMES.indexOf('first_bytes');
const SAME_HEAD = FLOW_FEATURE_NAMES.indexOf('same_head');

/**
 * A call in a format no rule knows looks like a known call whose headers are unreadable: the same
 * sizes and timing, no media shapes, first bytes as varied as ciphertext's. Each call is also
 * learnt that way, so the forest cannot lean on the headers alone.
 */
export function blinded(x: Float64Array): Float64Array {
  const y = Float64Array.from(x);
  for (const i of SHAPE_FEATURES) y[i] = 0;
  y[FIRST_BYTES] = 0.9;
  y[SAME_HEAD] = 0;
  return y;
}

export interface CallTrainOptions {
  trees: number;
  maxDepth: number;
  minLeaf: number;
  seed: number;
  threshold: number;
}

export const DEFAULT_CALL_TRAIN: CallTrainOptions = { trees: 60, maxDepth: 8, minLeaf: 2, seed: 14, threshold: 0.5 };

function fit(flows: LabelledFlow[], o: CallTrainOptions): { forest: ForestParams; augmented: number } {
  const X: Float64Array[] = [];
  const y: number[] = [];
  for (const f of flows) {
    X.push(f.x);
    y.push(f.label);
    if (f.label === 1) {
      X.push(blinded(f.x));
      y.push(1);
    }
  }
  const pos = y.filter((v) => v === 1).length;
  const neg = y.length - pos;
  if (pos === 0 || neg === 0) {
    throw new UserError(
      `the training flows hold ${pos} call(s) and ${neg} other flow(s): the call classifier needs both (give traces with calls and traces without)`,
    );
  }
  // both classes weigh the same in total: there are many more other flows than calls
  const w = Float64Array.from(y, (v) => (v === 1 ? y.length / (2 * pos) : y.length / (2 * neg)));
  const forest = fitForest(X, Uint8Array.from(y), w, {
    trees: o.trees,
    maxDepth: o.maxDepth,
    minLeaf: o.minLeaf,
    featuresPerSplit: Math.max(1, Math.round(Math.sqrt(FLOW_FEATURE_NAMES.length))),
    seed: o.seed,
    bootstrap: true,
  });
  return { forest, augmented: pos - flows.filter((f) => f.label === 1).length };
}

/** Feature indexes by how many splits use them, most first. */
function importance(forest: ForestParams): number[] {
  const n = new Array<number>(FLOW_FEATURE_NAMES.length).fill(0);
  for (const t of forest.trees) for (const f of t.feature) if (f >= 0) n[f]++;
  return n
    .map((c, i) => [c, i])
    .filter(([c]) => c > 0)
    .sort((a, b) => b[0] - a[0])
    .map(([, i]) => i);
}

/** Leave-one-capture-out: train without a trace's flows, score them; all traces in turn. */
export function crossValidate(flows: LabelledFlow[], o: CallTrainOptions): CallCvScores {
  const traces = [...new Set(flows.map((f) => f.trace))];
  let tp = 0;
  let fp = 0;
  let calls = 0;
  let others = 0;
  let utp = 0;
  let ufp = 0;
  let ucalls = 0;
  let uothers = 0;
  let captures = 0;
  let blindTp = 0;
  for (const t of traces) {
    const test = flows.filter((f) => f.trace === t);
    const train = flows.filter((f) => f.trace !== t);
    if (!train.some((f) => f.label === 1) || !train.some((f) => f.label === 0)) continue;
    captures++;
    const { forest } = fit(train, { ...o, trees: Math.min(o.trees, 30) });
    for (const f of test) {
      const hit = forestProbability(forest, f.x) >= o.threshold;
      if (f.label === 1) {
        calls++;
        if (hit) tp++;
        if (forestProbability(forest, blinded(f.x)) >= o.threshold) blindTp++;
      } else {
        others++;
        if (hit) fp++;
      }
      if (f.rule !== null) continue;
      if (f.label === 1) {
        ucalls++;
        if (hit) utp++;
      } else {
        uothers++;
        if (hit) ufp++;
      }
    }
  }
  const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);
  return {
    captures,
    calls,
    others,
    recall: ratio(tp, calls),
    falsePositiveRate: ratio(fp, others),
    unnamedCalls: ucalls,
    unnamedRecall: ratio(utp, ucalls),
    unnamedOthers: uothers,
    unnamedFalsePositiveRate: ratio(ufp, uothers),
    blindRecall: ratio(blindTp, calls),
  };
}

export interface CallTrainInput {
  file: string;
  source: FlowLabelSource;
}

/** Trains the call model on labelled traces; `cv` adds leave-one-capture-out scores. */
export async function trainCallModel(
  inputs: CallTrainInput[],
  rules: RuleSet,
  o: CallTrainOptions,
  cv: boolean,
  createdBy: string,
  progress: (line: string) => void = () => undefined,
): Promise<CallModelFile> {
  const flows: LabelledFlow[] = [];
  const described: CallTrainingInput[] = [];
  for (const input of inputs) {
    const got = await collectFlows(input.file, rules, input.source);
    flows.push(...got);
    const calls = got.filter((f) => f.label === 1).length;
    progress(`${input.file}: ${got.length} flow(s) judged, ${calls} call(s)`);
    described.push({
      file: input.file,
      sha256: crypto.createHash('sha256').update(fs.readFileSync(input.file)).digest('hex'),
      flows: got.length,
      calls,
    });
  }
  const { forest, augmented } = fit(flows, o);
  return {
    format: CALL_MODEL_FORMAT,
    version: CALL_MODEL_VERSION,
    createdBy,
    created: new Date().toISOString(),
    features: [...FLOW_FEATURE_NAMES],
    threshold: o.threshold,
    top: importance(forest),
    forest,
    training: {
      inputs: described,
      flows: flows.length,
      calls: flows.filter((f) => f.label === 1).length,
      augmented,
      seed: o.seed,
    },
    cv: cv ? crossValidate(flows, o) : null,
  };
}
