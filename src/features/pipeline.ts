import { newDecodedPacket } from '../capture/decode';
import type { DecodedPacket } from '../capture/types';
import type { Cidr } from '../flow/local';
import { Flow, FlowTable, LIST_CALL, LIST_OTHER } from '../flow/table';
import type { EndReason } from '../flow/types';
import { SHAPE_WORDS, ShapeCounts } from '../rules/inspect';
import { Slab } from '../util/slab';
import { SentVideo } from './sent-video';
import type { RuleSet } from '../rules/ruleset';
import type { Rule } from '../rules/types';
import {
  addToSummary,
  FLOW_FEATURE_NAMES,
  resetFlowSummary,
  summarize,
  summaryPackets,
  summarySpan,
  SUMMARY_SIZE,
} from './flow-summary';
import { FEATURE_NAMES } from './names';
import type { LabelSet } from './labels';
import type { CallClassifier, PipelineSink, WindowRecord } from './types';
import {
  addPacket,
  computeFeatures,
  DIR_IN,
  DIR_OUT,
  newWindowStats,
  resetWindowStats,
  windowPackets,
  windowWireBytes,
} from './window-stats';

export interface PipelineOptions {
  /** window length, ms (100..900 on the CLI) */
  windowMs: number;
  rules: RuleSet;
  /** which addresses are ours (direction); empty: private-address rule, then the initiator */
  local: Cidr[];
  /** seconds without packets after which a flow is forgotten (a call ends 'timeout' if media-stop did not end it first) */
  idleTimeoutS: number;
  /** flow table cap: beyond it the idlest flow is evicted */
  maxFlows: number;
  labels?: LabelSet;
  /** seconds without packets after which a call ends 'media-stop' (default 5, kept below idleTimeoutS) */
  mediaStopS?: number;
  /** the learned classifier for the UDP flows no rule names (none: rules only) */
  calls?: CallClassifier;
}

/**
 * What a flow must show before the call classifier judges it — a call's media, not a probe or a
 * keep-alive: this many packets, over this many seconds, at this rate. Below them a flow is no call.
 * It is judged on its first `judgeS` seconds (or fewer, when it ends sooner); one that has not
 * reached the gate waits up to `waitS` for its media to start.
 */
export const CLASSIFIER_GATE = { packets: 20, seconds: 2, pps: 10, waitS: 10, judgeS: 4 } as const;

export const DEFAULT_WINDOW_MS = 500;
export const DEFAULT_IDLE_TIMEOUT_S = 30;
export const DEFAULT_MAX_FLOWS = 100_000;
const DEFAULT_MEDIA_STOP_S = 5;

const NOT_CALL = 0;
const CANDIDATE = 1;
const CALL = 2;
const DONE = 3;

/**
 * A candidate's first packets in a window are kept as (time, sizes, direction) in a shared slab rather
 * than in window accumulators of its own (51 doubles and a typed array per flow): most candidates
 * see a few packets and are never picked. Past this many packets in one window the flow gets its
 * own accumulators, the pending packets replayed into them in order (same sums, same output).
 */
const PENDING_MAX = 4;
/** doubles per pending packet: ts, ipLen, 2 × wireLen + dir (an IPv6 or TSO packet's ipLen can pass 65535) */
const PENDING_FIELDS = 3;
const PENDING_STRIDE = PENDING_FIELDS * PENDING_MAX;

/**
 * Slots the per-flow slabs are made with at most: ~400 MB of address space for the three of them,
 * which a small host could refuse at start-up for a --max-flows of millions; a bigger table grows them.
 */
const SLAB_SLOTS_MAX = 1 << 20;

const TCP_FIN = 0x01;
const TCP_RST = 0x04;

/** a held window's features before the rules have kept it */
const NOT_COMPUTED = new Float64Array(0);

/** A closed window of a flow the rules have not decided on yet: kept until they do. */
interface HeldWindow {
  index: number;
  packets: number;
  bytes: number;
  features: Float64Array;
}

/**
 * What the pipeline keeps per flow (Flow.state). Windows and inspection are used only for
 * candidates and calls; their storage is made once and reused when the table recycles the flow.
 */
class FlowState {
  phase = NOT_CALL;
  /** the window's accumulators once the flow had more than PENDING_MAX packets in a window; else null */
  stats: Float64Array | null = null;
  /** offset in the pipeline's pending slab (-1: none) and the packets of the current window there */
  slot = -1;
  pending = 0;
  shapes: ShapeCounts | null = null;
  /**
   * offset of the flow's first-seconds statistics for the call classifier (flow-summary.ts) in the
   * pipeline's summary slab (-1: none): taken at its second packet (most candidates have one), the
   * first one kept meanwhile in firstSize/firstOut
   */
  summary = -1;
  firstSize = 0;
  firstOut = false;
  /** training (sink.judged): a rule's call whose statistics are still gathered up to the classifier's age */
  collecting = false;
  /** the rule the flow was last waiting on, while undecided (for --explain) */
  waiting: Rule | null = null;
  /** a call's media streams, each way: is the local camera on (what it sends), the remote one (what it receives)? */
  video: SentVideo | null = null;
  received: SentVideo | null = null;
  /** index of the window being filled (window indexes exceed V8's small integers: -Infinity keeps the field a double) */
  win = -Infinity;
  /** highest window index already emitted (or, for a candidate, held) */
  done = -Infinity;
  readonly held: HeldWindow[] = [];
}

/**
 * flows → call windows → features. Feed it decoded packets in time order; it picks call flows
 * with the rules, cuts them into windows aligned to multiples of the window length in epoch time,
 * and hands window records and call start/end events to the sink.
 *
 * A flow the rules have not decided on yet (a candidate) has its windows computed and held, so
 * the call's first windows are not lost; the rules decide within RuleSet.horizonS, which bounds
 * what is held.
 */
export class Pipeline {
  readonly stats = { packets: 0, ipPackets: 0, flows: 0, calls: 0, windows: 0 };
  /**
   * Packets over a window older than the newest one before them, and the largest step back (s). A
   * trace out of time order (captures appended with `mergecap -a`, a multi-interface file) puts
   * them in a later window than their own: counted, not lost, but the features are wrong there.
   */
  private readonly disorder = { late: 0, maxBackS: 0 };
  private newestTs = -Infinity;
  private readonly table: FlowTable<FlowState>;
  private readonly windowS: number;
  /** window index of time t: Math.floor(t * windowsPerS), the same formula everywhere */
  private readonly windowsPerS: number;
  private readonly mediaStopS: number;
  /** epoch time of the first packet (labels relative to the trace start use it) */
  private traceStart = NaN;
  /** first window index at which advance() has work to do */
  private nextTickWin = -Infinity;
  private readonly featureCount = FEATURE_NAMES.length;
  /**
   * Per-flow slabs, sized for the flow table's cap up to SLAB_SLOTS_MAX (a flow holds at most one
   * slot of each): a candidate's pending packets (see PENDING_MAX and PENDING_FIELDS)
   */
  private readonly pendingSlab: Slab;
  /** its flow summary (FlowState.summary) */
  private readonly summaries: Slab;
  /** the words its payloads are compared with (ShapeCounts) */
  private readonly shapeWords: Slab;
  /** accumulators a window of pending packets is replayed into when it closes */
  private readonly scratch = newWindowStats();
  private readonly replayed = newDecodedPacket();

  constructor(
    private readonly opts: PipelineOptions,
    private readonly sink: PipelineSink,
  ) {
    this.windowS = opts.windowMs / 1000;
    this.windowsPerS = 1000 / opts.windowMs;
    this.mediaStopS = Math.min(opts.mediaStopS ?? DEFAULT_MEDIA_STOP_S, opts.idleTimeoutS * 0.9);
    const slots = Math.min(opts.maxFlows, SLAB_SLOTS_MAX);
    this.pendingSlab = new Slab(PENDING_STRIDE, slots);
    this.summaries = new Slab(SUMMARY_SIZE, slots);
    this.shapeWords = new Slab(SHAPE_WORDS, slots);
    this.table = new FlowTable<FlowState>(
      opts.maxFlows,
      opts.local,
      () => new FlowState(),
      (st) => this.recycle(st),
      (f) => this.evicted(f),
    );
  }

  /** Flows in the table now (calls, candidates and others). */
  get activeFlows(): number {
    return this.table.size;
  }

  /** A frame that is not an IP packet (or could not be decoded): counted, and it moves the clock. */
  onOther(ts: number): void {
    this.stats.packets++;
    if (ts >= this.newestTs) this.newestTs = ts;
    else this.stepBack(ts);
    if (this.traceStart !== this.traceStart) this.traceStart = ts;
    if (Math.floor(ts * this.windowsPerS) >= this.nextTickWin) this.advance(ts);
  }

  onPacket(p: DecodedPacket): void {
    const ts = p.ts;
    this.stats.packets++;
    this.stats.ipPackets++;
    if (ts >= this.newestTs) this.newestTs = ts;
    else this.stepBack(ts);
    if (this.traceStart !== this.traceStart) this.traceStart = ts;
    const w = Math.floor(ts * this.windowsPerS);
    if (w >= this.nextTickWin) this.advance(ts);
    if (p.fragment || (p.proto !== 17 && p.proto !== 6)) return;

    const table = this.table;
    const f = table.get(p);
    if (table.created) {
      this.stats.flows++;
      if (this.opts.rules.candidate(f)) this.startCandidate(f.state);
      else if (this.sink.verdict !== undefined) f.reason = NOT_INSPECTED;
    }
    if (ts > f.lastTs) f.lastTs = ts;
    f.packets++;
    f.bytes += p.wireLen;
    const st = f.state;
    if (st.phase === CANDIDATE || st.phase === CALL) {
      if (w > st.win) this.rollWindow(f, w);
      if (st.stats !== null) addPacket(st.stats, table.out ? DIR_OUT : DIR_IN, p);
      else this.addPending(st, table.out ? DIR_OUT : DIR_IN, p);
      if (st.phase === CANDIDATE) {
        if (st.summary >= 0) addToSummary(this.summaries.data, st.summary, ts, p.payloadLen, table.out);
        else if (f.packets === 1) {
          st.firstSize = p.payloadLen;
          st.firstOut = table.out;
        } else {
          // taking the slot may grow the slab: its data is read after
          const o = this.summaryOf(f);
          addToSummary(this.summaries.data, o, ts, p.payloadLen, table.out);
        }
      }
      if (p.payloadLen > 0) {
        if (st.phase === CANDIDATE)
          st.shapes!.add(p.buf, p.payloadOff, p.payloadCapLen, p.payloadLen, table.out, p.proto === 6);
        // (rolling the window may have just dropped a candidate)
        else if (st.phase === CALL)
          (table.out ? st.video! : st.received!).add(ts, p.buf, p.payloadOff, p.payloadCapLen);
      }
      if (st.collecting) this.collect(f, p, table.out);
    }
    if (p.proto === 6 && (p.tcpFlags & (TCP_FIN | TCP_RST)) !== 0 && f.ended === null)
      this.tcpClose(f, p.tcpFlags, table.out);
  }

  private stepBack(ts: number): void {
    const back = this.newestTs - ts;
    if (back <= this.windowS) return;
    this.disorder.late++;
    if (back > this.disorder.maxBackS) this.disorder.maxBackS = back;
  }

  /** What to tell the user about the trace (`name`, as messages name it): a line if it was out of time order. */
  warnings(name: string): string[] {
    const { late, maxBackS } = this.disorder;
    if (late === 0) return [];
    return [
      `${name}: not in time order: ${late} packet${late === 1 ? ' is' : 's are'} more than one window (${this.opts.windowMs} ms) ` +
        `older than packets before ${late === 1 ? 'it' : 'them'} (up to ${maxBackS.toFixed(1)} s), so their windows are wrong; ` +
        `sort it first: reordercap ${name === 'stdin' ? 'TRACE' : name} sorted.pcapng`,
    ];
  }

  /**
   * Clock tick: emits the windows of calls that ended before `now`, ends calls silent for the
   * media-stop time, and forgets flows idle for the idle timeout. Replay calls it from packet
   * times (onPacket does, at each window boundary); live capture from the wall clock.
   */
  advance(now: number): void {
    const cur = Math.floor(now * this.windowsPerS);
    if (cur < this.nextTickWin) return;
    this.nextTickWin = cur + 1;
    const table = this.table;
    for (let f = table.oldest(LIST_CALL); f !== null;) {
      const next = f.newer;
      const st = f.state;
      if (f.lastTs < now - this.mediaStopS) {
        // forgotten at once: media on this 5-tuple after seconds of silence is a new call
        this.endCall(f, 'media-stop');
        table.remove(f);
      } else if (st.win < cur && st.win > st.done) {
        this.emit(f, st.win, this.statsOf(st));
        st.done = st.win;
      }
      f = next;
    }
    const idleBefore = now - this.opts.idleTimeoutS;
    // the list is in the order flows were last moved (FlowTable TOUCH_S): past the first one moved
    // after idleBefore, none is idle; before it, one with newer packets only needs moving
    for (let f = table.oldest(LIST_OTHER); f !== null && f.touchedTs < idleBefore;) {
      const next = f.newer;
      if (f.lastTs < idleBefore) {
        this.explainLeft(f, 'it went idle');
        table.remove(f);
      } else table.refresh(f);
      f = next;
    }
  }

  /** End of input: candidates get their last verdict, every open window is flushed, calls end 'end-of-trace'. */
  finish(): void {
    const table = this.table;
    for (const list of [LIST_OTHER, LIST_CALL]) {
      for (let f = table.oldest(list); f !== null;) {
        const next = f.newer;
        const st = f.state;
        if (st.phase === CANDIDATE) this.closeWindow(f, true);
        if (st.phase === CALL) this.endCall(f, 'end-of-trace');
        this.explainLeft(f, 'the trace ended');
        f = next;
      }
    }
  }

  /** The flow's first packet opens its first window (rollWindow), which clears the stats. */
  private startCandidate(st: FlowState): void {
    st.phase = CANDIDATE;
    if (st.shapes === null) st.shapes = new ShapeCounts(this.shapeWords);
    else st.shapes.reset();
  }

  /** Closes the window being filled: a call emits it, a candidate holds it and asks the rules (`final`: last chance). */
  private closeWindow(f: Flow<FlowState>, final: boolean): void {
    const st = f.state;
    if (st.win < 0 || st.win <= st.done) return;
    st.done = st.win;
    if (st.phase === CALL) this.emit(f, st.win, this.statsOf(st));
    else this.hold(f, st.win, final);
  }

  /** The packet at hand falls into window `w` > st.win: close the current window and move on. */
  private rollWindow(f: Flow<FlowState>, w: number): void {
    const st = f.state;
    this.closeWindow(f, false);
    // windows between the last one and this packet's are empty but inside the call: emitted too
    if (st.phase === CALL && st.done >= 0) {
      for (let k = st.done + 1; k < w; k++) this.emitEmpty(f, k);
      st.done = Math.max(st.done, w - 1);
    }
    if (st.stats !== null) resetWindowStats(st.stats);
    st.pending = 0;
    st.win = w;
  }

  /** Keeps a candidate's closed window and asks the rules again, then (once they are done) the classifier. */
  private hold(f: Flow<FlowState>, k: number, final: boolean): void {
    const st = f.state;
    const s = this.statsOf(st);
    // Features only once the window is kept: most candidates are dropped at their first
    // verdict (by the hundred thousand at the end of a busy trace), and the rules ask only for rates.
    const held: HeldWindow = { index: k, packets: windowPackets(s), bytes: windowWireBytes(s), features: NOT_COMPUTED };
    st.held.push(held);
    const rules = this.opts.rules;
    const rule = rules.decide(f, st.shapes!, (seconds) => this.heldRate(f, k, seconds), f.lastTs - f.firstTs, final);
    if (rule && rule.exclude) {
      this.reject(f, `${ruleWhere(rule)}: ${rule.app}, never a call of its own`);
      return;
    }
    if (rule) {
      held.features = computeFeatures(s, this.windowS, new Float64Array(FEATURE_NAMES.length));
      this.startCall(f, rule.app, 1, ruleWhere(rule));
      // training data: a rule decides sooner than the classifier would; its call's statistics are
      // gathered on to the classifier's age, so that both are learnt from the same span
      if (this.sink.judged !== undefined) {
        st.collecting = true;
        if (f.lastTs - f.firstTs >= CLASSIFIER_GATE.judgeS) this.emitJudged(f);
      }
      return;
    }
    const undecided = rule === undefined && !final && f.lastTs - f.firstTs <= rules.horizonS;
    if (rule === undefined) st.waiting = rules.pending;
    if (!undecided) {
      // the classifier may make it a call now, which emits the held windows: this one's features first
      if (f.proto === 17 && this.passesGate(f) === null)
        held.features = computeFeatures(s, this.windowS, new Float64Array(FEATURE_NAMES.length));
      if (!this.judge(f, final)) return;
    }
    if (held.features === NOT_COMPUTED)
      held.features = computeFeatures(s, this.windowS, new Float64Array(FEATURE_NAMES.length));
  }

  /** Why a flow cannot be judged by the classifier (too short, too few packets, too slow), or null. */
  private passesGate(f: Flow<FlowState>, minAgeS: number = CLASSIFIER_GATE.seconds): string | null {
    const age = f.lastTs - f.firstTs;
    if (age < minAgeS) return `too short: ${age.toFixed(1)} s < ${minAgeS} s`;
    const o = this.summaryOf(f);
    const n = summaryPackets(this.summaries.data, o);
    if (n < CLASSIFIER_GATE.packets) return `too few packets: ${n} < ${CLASSIFIER_GATE.packets} in ${age.toFixed(1)} s`;
    const pps = n / Math.max(summarySpan(this.summaries.data, o), 1e-3);
    if (pps < CLASSIFIER_GATE.pps) return `too slow: ${pps.toFixed(1)} packets/s < ${CLASSIFIER_GATE.pps}`;
    return null;
  }

  /**
   * The rules named no app: the classifier's turn. Returns true while the flow stays a candidate
   * (waiting to be old enough) or became a call; false when it was rejected.
   */
  private judge(f: Flow<FlowState>, final: boolean): boolean {
    const st = f.state;
    const shapes = st.shapes!;
    const cls = this.opts.calls;
    // reasons of rejections are worded only for --explain: at the end of a busy trace there are
    // hundreds of thousands of them
    const noRule = this.sink.verdict === undefined ? '' : `no rule matched (${shapeText(shapes)})`;
    if (cls === undefined && this.sink.judged === undefined) return this.reject(f, noRule);
    if (f.proto !== 17) return this.reject(f, `${noRule}; the call classifier reads UDP flows only`);
    if (f.srcPort === 443 || f.desPort === 443)
      return this.reject(f, `${noRule}; UDP 443 is QUIC's, which the call classifier leaves alone`);
    if (f.packets < CLASSIFIER_GATE.packets && (final || f.lastTs - f.firstTs >= CLASSIFIER_GATE.waitS)) {
      return this.reject(f, noRule === '' ? '' : `${noRule}; ${this.passesGate(f)}`);
    }
    const gate = this.passesGate(f);
    if (gate !== null) {
      // calls often start slowly (ICE checks, ringing): a flow gets a while to show its media
      if (!final && f.lastTs - f.firstTs < CLASSIFIER_GATE.waitS) return true;
      return this.reject(f, `${noRule}; ${gate}`);
    }
    if (!final && f.lastTs - f.firstTs < CLASSIFIER_GATE.judgeS) return true;
    const excluded = this.opts.rules.excluded(f, shapes);
    if (excluded !== null) return this.reject(f, `${ruleWhere(excluded)}: ${excluded.app}, never a call of its own`);
    const o = this.summaryOf(f);
    const x = summarize(this.summaries.data, o, shapes, new Float64Array(FLOW_FEATURE_NAMES.length));
    this.sink.judged?.(f.info(), x, null);
    if (cls === undefined) return this.reject(f, `${noRule}; no call classifier`);
    const p = cls.probability(x);
    const stats = cls.top
      .slice(0, 4)
      .map((i) => `${FLOW_FEATURE_NAMES[i]} ${round(x[i])}`)
      .join(', ');
    if (p < cls.threshold)
      return this.reject(f, `${noRule}; classifier: P(call) ${p.toFixed(2)} < ${cls.threshold}; ${stats}`);
    this.startCall(f, appGuess(shapes), p, `classifier: P(call) ${p.toFixed(2)}; ${stats}`);
    return true;
  }

  /** Training: a rule's call still gathering statistics (FlowState.collecting). */
  private collect(f: Flow<FlowState>, p: DecodedPacket, out: boolean): void {
    const st = f.state;
    const o = this.summaryOf(f);
    addToSummary(this.summaries.data, o, p.ts, p.payloadLen, out);
    if (p.payloadLen > 0) st.shapes!.add(p.buf, p.payloadOff, p.payloadCapLen, p.payloadLen, out, p.proto === 6);
    if (p.ts - f.firstTs >= CLASSIFIER_GATE.judgeS) this.emitJudged(f);
  }

  private emitJudged(f: Flow<FlowState>): void {
    const st = f.state;
    st.collecting = false;
    if (this.passesGate(f) !== null) return;
    const o = this.summaryOf(f);
    this.sink.judged!(
      f.info(),
      summarize(this.summaries.data, o, st.shapes!, new Float64Array(FLOW_FEATURE_NAMES.length)),
      f.app,
    );
  }

  /** A candidate that is no call: why is kept for --explain. Returns false (for judge). */
  private reject(f: Flow<FlowState>, reason: string): boolean {
    this.dropCandidate(f.state);
    f.reason = reason;
    this.sink.verdict?.({ flow: f.info(), call: false, reason });
    return false;
  }

  /** --explain: a flow leaves without a verdict yet (never inspected, or still undecided). */
  private explainLeft(f: Flow<FlowState>, how: string): void {
    if (this.sink.verdict === undefined || (f.state.phase !== NOT_CALL && f.state.phase !== CANDIDATE)) return;
    if (f.state.phase === NOT_CALL && f.reason !== NOT_INSPECTED) return;
    const w = f.state.waiting;
    const on = w === null ? '' : `, waiting on ${ruleWhere(w)} (${w.app})`;
    const reason =
      f.reason === NOT_INSPECTED ? NOT_INSPECTED : `still undecided when ${how}${on} (${shapeText(f.state.shapes!)})`;
    this.sink.verdict({ flow: f.info(), call: false, reason });
  }

  /** Mean packets/s of a flow from its first packet to the end of window k; NaN while it is younger than `seconds`. */
  private heldRate(f: Flow<FlowState>, k: number, seconds: number): number {
    const span = Math.max(1, Math.round((seconds * 1000) / this.opts.windowMs));
    const first = k - span + 1;
    if (f.firstTs > (first * this.opts.windowMs) / 1000 + this.windowS) return NaN;
    // over the flow's whole life so far (its windows up to k): the rate the call's media keeps up,
    // which a burst of set-up packets or a pause does not change much
    let packets = 0;
    for (const h of f.state.held) if (h.index <= k) packets += h.packets;
    const life = Math.min(((k + 1) * this.opts.windowMs) / 1000, f.lastTs) - f.firstTs;
    return packets / Math.max(life, seconds);
  }

  private startCall(f: Flow<FlowState>, app: string, certainty: number, reason: string): void {
    const st = f.state;
    st.phase = CALL;
    f.app = app;
    f.certainty = certainty;
    f.reason = reason;
    this.stats.calls++;
    this.table.setList(f, LIST_CALL);
    if (st.video === null) st.video = new SentVideo();
    if (st.received === null) st.received = new SentVideo();
    st.video.reset(app === 'zoom', f.firstTs);
    st.received.reset(app === 'zoom', f.firstTs);
    this.sink.callStart(f.info());
    this.sink.verdict?.({ flow: f.info(), call: true, reason });
    const held = st.held;
    let next = held.length > 0 ? held[0].index : st.done + 1;
    for (const h of held) {
      for (; next < h.index; next++) this.emitEmpty(f, next);
      this.sink.window(this.record(f, h.index, h.packets, h.bytes, h.features));
      this.stats.windows++;
      next = h.index + 1;
    }
    held.length = 0;
  }

  private dropCandidate(st: FlowState): void {
    st.phase = NOT_CALL;
    st.held.length = 0;
    this.freeSlots(st);
  }

  /** A removed flow's state, made like new for reuse (or left to the GC: its slot is freed either way). */
  private recycle(st: FlowState): void {
    st.phase = NOT_CALL;
    st.waiting = null;
    st.collecting = false;
    st.win = -Infinity;
    st.done = -Infinity;
    st.held.length = 0;
    this.freeSlots(st);
  }

  /** A flow no longer a candidate or a call gives back all it holds in the slabs. */
  private freeSlots(st: FlowState): void {
    this.freePending(st);
    if (st.summary >= 0) this.summaries.free(st.summary);
    st.summary = -1;
    st.shapes?.release();
  }

  private freePending(st: FlowState): void {
    if (st.slot >= 0) this.pendingSlab.free(st.slot);
    st.slot = -1;
    st.pending = 0;
  }

  /** Keeps a packet of a flow without accumulators of its own; the one past PENDING_MAX gives it some. */
  private addPending(st: FlowState, dir: number, p: DecodedPacket): void {
    if (st.pending === PENDING_MAX) {
      const s = newWindowStats();
      this.replayPending(st, s);
      this.freePending(st);
      st.stats = s;
      addPacket(s, dir, p);
      return;
    }
    if (st.slot < 0) st.slot = this.pendingSlab.take();
    const slab = this.pendingSlab.data;
    const o = st.slot + PENDING_FIELDS * st.pending;
    slab[o] = p.ts;
    slab[o + 1] = p.ipLen;
    slab[o + 2] = dir + 2 * p.wireLen;
    st.pending++;
  }

  /** Adds a flow's pending packets to `s`, in the order they came. */
  private replayPending(st: FlowState, s: Float64Array): void {
    const q = this.replayed;
    const slab = this.pendingSlab.data;
    for (let i = 0; i < st.pending; i++) {
      const o = st.slot + PENDING_FIELDS * i;
      const packed = slab[o + 2];
      const dir = packed % 2;
      q.ts = slab[o];
      q.ipLen = slab[o + 1];
      q.wireLen = (packed - dir) / 2;
      addPacket(s, dir, q);
    }
  }

  /** The flow's summary offset in `summaries`, taken now (the first packet replayed into it) if it had only one packet so far. */
  private summaryOf(f: Flow<FlowState>): number {
    const st = f.state;
    if (st.summary < 0) {
      st.summary = this.summaries.take();
      resetFlowSummary(this.summaries.data, st.summary);
      addToSummary(this.summaries.data, st.summary, f.firstTs, st.firstSize, st.firstOut);
    }
    return st.summary;
  }

  /** The current window's accumulators: the flow's own, or the scratch ones filled from its pending packets. */
  private statsOf(st: FlowState): Float64Array {
    if (st.stats !== null) return st.stats;
    resetWindowStats(this.scratch);
    this.replayPending(st, this.scratch);
    return this.scratch;
  }

  private endCall(f: Flow<FlowState>, reason: EndReason): void {
    const st = f.state;
    if (st.collecting) this.emitJudged(f);
    if (st.win > st.done) {
      this.emit(f, st.win, this.statsOf(st));
      st.done = st.win;
    }
    st.phase = DONE;
    if (f.ended === null) f.ended = reason;
    this.sink.callEnd(f.info(), reason);
  }

  private tcpClose(f: Flow<FlowState>, flags: number, fromLocal: boolean): void {
    if ((flags & TCP_RST) !== 0) f.ended = 'rst';
    else {
      f.finMask |= fromLocal ? 1 : 2;
      if (f.finMask === 3) f.ended = 'fin';
    }
    if (f.ended === null) return;
    const st = f.state;
    if (st.phase === CANDIDATE) this.closeWindow(f, true);
    if (st.phase === CALL) {
      this.endCall(f, f.ended);
      this.table.setList(f, LIST_OTHER);
    }
  }

  private evicted(f: Flow<FlowState>): void {
    if (f.state.phase === CALL) this.endCall(f, 'evicted');
    this.explainLeft(f, 'the flow table was full');
  }

  private emit(f: Flow<FlowState>, k: number, s: Float64Array): void {
    const features = computeFeatures(s, this.windowS, new Float64Array(this.featureCount));
    this.sink.window(this.record(f, k, windowPackets(s), windowWireBytes(s), features));
    this.stats.windows++;
  }

  private emitEmpty(f: Flow<FlowState>, k: number): void {
    const features = computeFeatures(EMPTY_STATS, this.windowS, new Float64Array(this.featureCount));
    this.sink.window(this.record(f, k, 0, 0, features));
    this.stats.windows++;
  }

  private record(f: Flow<FlowState>, k: number, packets: number, bytes: number, features: Float64Array): WindowRecord {
    const start = (k * this.opts.windowMs) / 1000;
    const end = ((k + 1) * this.opts.windowMs) / 1000;
    const r: WindowRecord = {
      flowID: f.id,
      app: f.app ?? '',
      srcIP: f.srcIP,
      srcPort: f.srcPort,
      desIP: f.desIP,
      desPort: f.desPort,
      protocol: f.protocol,
      start,
      end,
      packets,
      bytes,
      features,
      callCertainty: f.certainty,
      sent: f.state.phase === CALL ? f.state.video!.sending(end) : 'video',
      received: f.state.phase === CALL ? f.state.received!.sending(end) : 'video',
    };
    if (this.opts.labels) {
      const label = this.opts.labels.labelFor(start, end, this.traceStart);
      if (label !== undefined) r.label = label;
    }
    return r;
  }
}

const EMPTY_STATS = newWindowStats();

const NOT_INSPECTED = 'not inspected: no rule naming a call can match its protocol, ports or addresses';

function ruleWhere(r: Rule): string {
  return `${r.file}:${r.line}`;
}

function round(v: number): string {
  return Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(2);
}

/** What the inspected packets looked like, for a reason: the shapes seen, most first. */
function shapeText(s: ShapeCounts): string {
  const seen: [string, number][] = [
    ['rtp', s.rtp],
    ['rtcp', s.rtcp],
    ['stun', s.stun],
    ['dtls', s.dtls],
    ['zoom', s.zoom],
    ['tagged', s.tagged],
    ['imo', s.imo],
    ['line', s.line],
    ['viber', s.viber],
    ['quic', s.quic],
    ['wireguard', s.wireguard],
    ['openvpn', s.openvpn],
  ];
  const parts = seen
    .filter(([, n]) => n > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`);
  return `${s.inspected} payloads inspected${parts.length > 0 ? ': ' + parts.join(', ') : ''}`;
}

/** The classifier's call is named after the app whose header shape its packets carry most, else 'call'. */
function appGuess(s: ShapeCounts): string {
  const half = s.inspected / 2;
  if (s.zoom > half) return 'zoom';
  if (s.tagged > half) return 'telegram';
  if (s.imo > half) return 'imo';
  if (s.line > half) return 'line';
  if (s.viber > half) return 'viber';
  if (s.waStun > 0) return 'whatsapp';
  return 'call';
}
