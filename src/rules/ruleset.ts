import { INSPECT_MAX, type ShapeCounts } from './inspect';
import type { Condition, FlowKey, RateProbe, Rule, ShapeName, Side } from './types';

const NO = 0;
const YES = 1;
const PENDING = 2;
type Verdict = typeof NO | typeof YES | typeof PENDING;

const COST: Record<Condition['kind'], number> = { proto: 0, port: 1, net: 2, shape: 3, rate: 4 };

/** After the rate windows a flow gets this much more time before an undecided flow is taken as no call. */
const DECISION_SLACK_S = 3;
/**
 * A flow whose packets have a call's shape but not yet its rate is given this long (s) to reach
 * it: calls start slowly (ICE checks, ringing) and media comes later (LINE in nDPI's capture: 7 s).
 */
export const RATE_PATIENCE_S = 10;

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

/**
 * A media shape holds when at least `min` of the inspected packets have it and the packets that
 * have neither it nor a shape `allowed` beside it (the STUN/DTLS set-up, RTCP, …) are at most
 * `otherPct` % of them; it fails once they are more than that of INSPECT_MAX.
 */
function dominant(s: ShapeCounts, done: boolean, count: number, allowed: number, min: number, otherPct: number): Verdict {
  const other = s.inspected - count - allowed;
  if (other * 100 > INSPECT_MAX * otherPct) return NO;
  if (count >= min && other * 100 <= s.inspected * otherPct) return YES;
  return done ? NO : PENDING;
}

const NO_RATE: RateProbe = () => NaN;

/** A shape that only some of an app's packets have (IMO mixes framings): at least `pct` % of them. */
function share(s: ShapeCounts, done: boolean, count: number, min: number, pct: number): Verdict {
  if ((s.inspected - count) * 100 > INSPECT_MAX * (100 - pct)) return NO;
  if (count >= min && count * 100 >= s.inspected * pct) return YES;
  return done ? NO : PENDING;
}

/**
 * STUN that opens a flow (WhatsApp's relay answering the allocation, Microsoft's ICE checks) comes
 * within its first packets, or not at all.
 */
const WHATSAPP_WITHIN = 16;

/** `done`: no more packets will be inspected (all were, or the flow ended). */
function shapeVerdict(name: ShapeName, s: ShapeCounts, done: boolean): Verdict {
  const seenOnce = (n: number): Verdict => (n > 0 ? YES : done ? NO : PENDING);
  switch (name) {
    case 'stun': return seenOnce(s.stun);
    case 'dtls': return seenOnce(s.dtls);
    case 'rtcp': return seenOnce(s.rtcp);
    // ICE checks come before the media: not among the first packets, not at all
    case 'msstun': return s.msStun > 0 ? YES : done || s.inspected >= WHATSAPP_WITHIN ? NO : PENDING;
    case 'whatsapp': return s.waStun > 0 ? YES : done || s.inspected >= WHATSAPP_WITHIN ? NO : PENDING;
    case 'quic': return seenOnce(s.quic);
    // ≥ 90 % of the packets look like RTP/RTCP or the STUN/DTLS around it, with few SSRCs
    case 'rtp': return s.ssrcOverflow ? NO : dominant(s, done, s.rtp, s.rtcp + s.stun + s.dtls, 16, 10);
    case 'zoom': return dominant(s, done, s.zoom, s.stun, 8, 20);
    case 'telegram': return dominant(s, done, s.tagged, 0, 8, 10);
    // an IMO frame whose two-byte length starts 0b10 reads as an RTP header: those count with it
    case 'imo': {
      const v = share(s, done, s.imo + s.rtp + s.rtcp, 12, 50);
      return v === YES && s.imo < 8 ? (done ? NO : PENDING) : v;
    }
    case 'line': return dominant(s, done, s.line, s.rtp + s.rtcp + s.stun, 8, 10);
    // a relay session speaks several message types (media, acks, keep-alives); a fixed 4-byte
    // header of some other protocol reads as one
    case 'viber': {
      const v = dominant(s, done, s.viber, s.stun, 8, 10);
      return v === YES && (s.viberTypes & (s.viberTypes - 1)) === 0 ? (done ? NO : PENDING) : v;
    }
    case 'wireguard': return dominant(s, done, s.wireguard, 0, 4, 10);
    // Telegram's peer tag repeats its first byte in every datagram, whatever opcode that byte reads as
    case 'openvpn': return s.tagged * 2 > s.inspected ? NO : dominant(s, done, s.openvpn, 0, 8, 5);
  }
}

function conditionVerdict(c: Condition, f: FlowKey, s: ShapeCounts, rate: RateProbe, ageS = Infinity, ended = false): Verdict {
  if (c.kind === 'shape') {
    let v: Verdict = YES;
    for (const name of c.shapes) {
      const sv = shapeVerdict(name, s, ended || s.done);
      if (sv === NO) return NO;
      if (sv === PENDING) v = PENDING;
    }
    return v;
  }
  if (c.kind === 'rate') {
    const r = rate(c.seconds);
    return Number.isNaN(r) ? PENDING : r >= c.pps ? YES : ageS < RATE_PATIENCE_S && !ended ? PENDING : NO;
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
  /** the rule the last decide() that returned undefined was waiting on (for --explain) */
  pending: Rule | null = null;

  constructor(
    rules: readonly Rule[],
    /** the files the rules came from */
    readonly sources: readonly string[],
  ) {
    // cheapest tests first: most flows fail on protocol or port before any address range is looked at
    this.rules = rules.map((r) => ({ ...r, conditions: [...r.conditions].sort((x, y) => COST[x.kind] - COST[y.kind]) }));
    const staticCost = (r: Rule) => r.conditions.reduce((a, c) => a + (c.kind === 'net' ? 1 : 0), 0);
    // only a rule naming an app makes a flow worth inspecting: exclusions end the question, never start it
    this.byStaticCost = this.rules.filter((r) => !r.exclude).sort((x, y) => staticCost(x) - staticCost(y));
    let longest = 0;
    for (const r of rules) for (const c of r.conditions) if (c.kind === 'rate') longest = Math.max(longest, c.seconds);
    this.horizonS = Math.max(longest + DECISION_SLACK_S, RATE_PATIENCE_S);
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

  /** The first exclusion rule that holds for the flow now (rates not asked), or null. */
  excluded(f: FlowKey, shapes: ShapeCounts): Rule | null {
    next: for (const r of this.rules) {
      if (!r.exclude) continue;
      for (const c of r.conditions) if (conditionVerdict(c, f, shapes, NO_RATE, Infinity, true) !== YES) continue next;
      return r;
    }
    return null;
  }

  /**
   * The first matching rule (an app, or an exclusion), null when no rule can match, undefined
   * while a rule naming an app is undecided. `ageS`: how old the flow is; a rate below a rule's
   * is no verdict before RATE_PATIENCE_S. `ended`: the flow has no more packets to inspect.
   */
  decide(f: FlowKey, shapes: ShapeCounts, rate: RateProbe, ageS = Infinity, ended = false): Rule | null | undefined {
    for (const r of this.rules) {
      let v: Verdict = YES;
      for (const c of r.conditions) {
        const cv = conditionVerdict(c, f, shapes, rate, ageS, ended);
        if (cv === NO) {
          v = NO;
          break;
        }
        if (cv === PENDING) v = PENDING;
      }
      if (v === YES) return r;
      // an exclusion not decided yet does not hold the flow up: a later rule may name it meanwhile
      if (v === PENDING && !r.exclude) {
        this.pending = r;
        return undefined;
      }
    }
    return null;
  }
}
