import { INSPECT_MAX, type ShapeCounts } from './inspect';
import type { Condition, FlowKey, RateProbe, Rule, ShapeName, Side } from './types';

const NO = 0;
const YES = 1;
const PENDING = 2;
type Verdict = typeof NO | typeof YES | typeof PENDING;

const COST: Record<Condition['kind'], number> = { proto: 0, port: 1, net: 2, shape: 3, rate: 4 };

/** After the rate windows a flow gets this much more time before an undecided flow is taken as no call. */
const DECISION_SLACK_S = 3;

function portIn(port: number, ranges: readonly number[]): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (port >= ranges[i] && port <= ranges[i + 1]) return true;
  return false;
}

function onSide(side: Side, local: boolean, remote: boolean): boolean {
  return side === 'local' ? local : side === 'remote' ? remote : local || remote;
}

/** Conditions that the 5-tuple alone decides. */
function staticVerdict(c: Condition, f: FlowKey): Verdict {
  switch (c.kind) {
    case 'proto':
      return f.proto === c.proto ? YES : NO;
    case 'port': {
      const hit = onSide(c.side, portIn(f.srcPort, c.ranges), portIn(f.desPort, c.ranges));
      return hit !== c.negate ? YES : NO;
    }
    case 'net': {
      const hit = onSide(c.side, c.nets.has(f.srcAddr, f.version), c.nets.has(f.desAddr, f.version));
      return hit !== c.negate ? YES : NO;
    }
    default:
      return PENDING;
  }
}

function shapeVerdict(name: ShapeName, s: ShapeCounts): Verdict {
  const seenOnce = (n: number): Verdict => (n > 0 ? YES : s.done ? NO : PENDING);
  switch (name) {
    case 'stun': return seenOnce(s.stun);
    case 'dtls': return seenOnce(s.dtls);
    case 'rtcp': return seenOnce(s.rtcp);
    case 'rtp': {
      // ≥ 90 % of the packets look like RTP/RTCP or the STUN/DTLS around it, with few SSRCs
      const other = s.inspected - s.rtp - s.rtcp - s.stun - s.dtls;
      if (s.ssrcOverflow || other * 10 > INSPECT_MAX) return NO;
      if (s.rtp >= 16 && other * 10 <= s.inspected) return YES;
      return s.done ? NO : PENDING;
    }
    case 'zoom': {
      const other = s.inspected - s.zoom - s.stun;
      if (other * 5 > INSPECT_MAX) return NO;
      if (s.zoom >= 8 && other * 5 <= s.inspected) return YES;
      return s.done ? NO : PENDING;
    }
  }
}

function conditionVerdict(c: Condition, f: FlowKey, s: ShapeCounts, rate: RateProbe): Verdict {
  if (c.kind === 'shape') {
    let v: Verdict = YES;
    for (const name of c.shapes) {
      const sv = shapeVerdict(name, s);
      if (sv === NO) return NO;
      if (sv === PENDING) v = PENDING;
    }
    return v;
  }
  if (c.kind === 'rate') {
    const r = rate(c.seconds);
    return Number.isNaN(r) ? PENDING : r >= c.pps ? YES : NO;
  }
  return staticVerdict(c, f);
}

/**
 * The loaded rules, in order. The first rule that matches a flow names its app; while an earlier
 * rule is still undecided (waiting for packets to inspect or for its rate window) the flow waits.
 */
export class RuleSet {
  readonly rules: readonly Rule[];
  private readonly byStaticCost: readonly Rule[];
  /** how long (s) after its first packet a flow may stay undecided; later it is no call */
  readonly horizonS: number;

  constructor(
    rules: readonly Rule[],
    /** the files the rules came from */
    readonly sources: readonly string[],
  ) {
    // cheapest tests first: most flows fail on protocol or port before any address range is looked at
    this.rules = rules.map((r) => ({ ...r, conditions: [...r.conditions].sort((x, y) => COST[x.kind] - COST[y.kind]) }));
    const staticCost = (r: Rule) => r.conditions.reduce((a, c) => a + (c.kind === 'net' ? 1 : 0), 0);
    this.byStaticCost = [...this.rules].sort((x, y) => staticCost(x) - staticCost(y));
    let longest = 0;
    for (const r of rules) for (const c of r.conditions) if (c.kind === 'rate') longest = Math.max(longest, c.seconds);
    this.horizonS = longest + DECISION_SLACK_S;
  }

  /** True when some rule could still match this 5-tuple: only such flows are windowed and inspected. */
  candidate(f: FlowKey): boolean {
    // any rule will do, so the cheapest ones are asked first (most flows pass or fail on protocol and ports)
    const rules = this.byStaticCost;
    next: for (let i = 0; i < rules.length; i++) {
      const cs = rules[i].conditions;
      for (let j = 0; j < cs.length; j++) if (staticVerdict(cs[j], f) === NO) continue next;
      return true;
    }
    return false;
  }

  /** The app of the first matching rule, null when no rule can match, undefined while undecided. */
  decide(f: FlowKey, shapes: ShapeCounts, rate: RateProbe): string | null | undefined {
    for (const r of this.rules) {
      let v: Verdict = YES;
      for (const c of r.conditions) {
        const cv = conditionVerdict(c, f, shapes, rate);
        if (cv === NO) {
          v = NO;
          break;
        }
        if (cv === PENDING) v = PENDING;
      }
      if (v === YES) return r.app;
      if (v === PENDING) return undefined;
    }
    return null;
  }
}
