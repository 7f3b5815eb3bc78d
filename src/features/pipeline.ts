import { newDecodedPacket } from '../capture/decode';
import type { DecodedPacket } from '../capture/types';
import type { Cidr } from '../flow/local';
import { Flow, FlowTable, LIST_CALL, LIST_OTHER } from '../flow/table';
import type { EndReason } from '../flow/types';
import { ShapeCounts } from '../rules/inspect';
import { SentVideo } from './sent-video';
import type { RuleSet } from '../rules/ruleset';
import { FEATURE_NAMES } from './names';
import type { LabelSet } from './labels';
import type { PipelineSink, WindowRecord } from './types';
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
}

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
  /** slot in the pipeline's pending slab (-1: none) and the packets of the current window in it */
  slot = -1;
  pending = 0;
  shapes: ShapeCounts | null = null;
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
  /** pending packets of candidates (see PENDING_MAX and PENDING_FIELDS) */
  private pendingSlab = new Float64Array(1024 * PENDING_STRIDE);
  private readonly freeSlots: number[] = [];
  private slotsUsed = 0;
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
    }
    if (ts > f.lastTs) f.lastTs = ts;
    f.packets++;
    f.bytes += p.wireLen;
    const st = f.state;
    if (st.phase === CANDIDATE || st.phase === CALL) {
      if (w > st.win) this.rollWindow(f, w);
      if (st.stats !== null) addPacket(st.stats, table.out ? DIR_OUT : DIR_IN, p);
      else this.addPending(st, table.out ? DIR_OUT : DIR_IN, p);
      if (p.payloadLen > 0) {
        if (st.phase === CANDIDATE) st.shapes!.add(p.buf, p.payloadOff, p.payloadCapLen, p.payloadLen);
        // (rolling the window may have just dropped a candidate)
        else if (st.phase === CALL)
          (table.out ? st.video! : st.received!).add(ts, p.buf, p.payloadOff, p.payloadCapLen);
      }
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
      if (f.lastTs < idleBefore) table.remove(f);
      else table.refresh(f);
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
        f = next;
      }
    }
  }

  /** The flow's first packet opens its first window (rollWindow), which clears the stats. */
  private startCandidate(st: FlowState): void {
    st.phase = CANDIDATE;
    if (st.shapes === null) st.shapes = new ShapeCounts();
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

  /** Keeps a candidate's closed window and asks the rules again. */
  private hold(f: Flow<FlowState>, k: number, final: boolean): void {
    const st = f.state;
    const s = this.statsOf(st);
    // Features only once the rules keep the window: most candidates are dropped at their first
    // verdict (by the hundred thousand at the end of a busy trace), and the rules ask only for rates.
    const held: HeldWindow = { index: k, packets: windowPackets(s), bytes: windowWireBytes(s), features: NOT_COMPUTED };
    st.held.push(held);
    const app = this.opts.rules.decide(f, st.shapes!, (seconds) => this.heldRate(f, k, seconds));
    if (typeof app !== 'string' && (app === null || final || f.lastTs - f.firstTs > this.opts.rules.horizonS)) {
      this.dropCandidate(st);
      return;
    }
    held.features = computeFeatures(s, this.windowS, new Float64Array(FEATURE_NAMES.length));
    if (typeof app === 'string') this.startCall(f, app);
  }

  /** Mean packets/s over the `seconds` of windows ending with window k; NaN if the flow is younger. */
  private heldRate(f: Flow<FlowState>, k: number, seconds: number): number {
    const span = Math.max(1, Math.round((seconds * 1000) / this.opts.windowMs));
    const first = k - span + 1;
    if (f.firstTs > (first * this.opts.windowMs) / 1000 + this.windowS) return NaN;
    let packets = 0;
    for (const h of f.state.held) if (h.index >= first && h.index <= k) packets += h.packets;
    return packets / (span * this.windowS);
  }

  private startCall(f: Flow<FlowState>, app: string): void {
    const st = f.state;
    st.phase = CALL;
    f.app = app;
    this.stats.calls++;
    this.table.setList(f, LIST_CALL);
    if (st.video === null) st.video = new SentVideo();
    if (st.received === null) st.received = new SentVideo();
    st.video.reset(app === 'zoom', f.firstTs);
    st.received.reset(app === 'zoom', f.firstTs);
    this.sink.callStart(f.info());
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
    this.freeSlot(st);
  }

  /** A removed flow's state, made like new for reuse (or left to the GC: its slot is freed either way). */
  private recycle(st: FlowState): void {
    st.phase = NOT_CALL;
    st.win = -Infinity;
    st.done = -Infinity;
    st.held.length = 0;
    this.freeSlot(st);
  }

  private freeSlot(st: FlowState): void {
    if (st.slot >= 0) this.freeSlots.push(st.slot);
    st.slot = -1;
    st.pending = 0;
  }

  /** Keeps a packet of a flow without accumulators of its own; the one past PENDING_MAX gives it some. */
  private addPending(st: FlowState, dir: number, p: DecodedPacket): void {
    if (st.pending === PENDING_MAX) {
      const s = newWindowStats();
      this.replayPending(st, s);
      this.freeSlot(st);
      st.stats = s;
      addPacket(s, dir, p);
      return;
    }
    if (st.slot < 0) st.slot = this.takeSlot();
    const o = st.slot * PENDING_STRIDE + PENDING_FIELDS * st.pending;
    this.pendingSlab[o] = p.ts;
    this.pendingSlab[o + 1] = p.ipLen;
    this.pendingSlab[o + 2] = dir + 2 * p.wireLen;
    st.pending++;
  }

  private takeSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if ((this.slotsUsed + 1) * PENDING_STRIDE > this.pendingSlab.length) {
      const bigger = new Float64Array(this.pendingSlab.length * 2);
      bigger.set(this.pendingSlab);
      this.pendingSlab = bigger;
    }
    return this.slotsUsed++;
  }

  /** Adds a flow's pending packets to `s`, in the order they came. */
  private replayPending(st: FlowState, s: Float64Array): void {
    const q = this.replayed;
    for (let i = 0; i < st.pending; i++) {
      const o = st.slot * PENDING_STRIDE + PENDING_FIELDS * i;
      const packed = this.pendingSlab[o + 2];
      const dir = packed % 2;
      q.ts = this.pendingSlab[o];
      q.ipLen = this.pendingSlab[o + 1];
      q.wireLen = (packed - dir) / 2;
      addPacket(s, dir, q);
    }
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
