import type { DecodedPacket } from '../capture/types';
import { formatAddr } from '../capture/addr';
import { endpointHash, hash64Hex } from './hash';
import { CidrSet, localSide, type Cidr } from './local';
import type { EndReason, FlowInfo, Protocol } from './types';

/** Which recency list a flow is on: calls are swept with the media-stop timeout, the rest with the idle timeout. */
export const LIST_OTHER = 0;
export const LIST_CALL = 1;
const POOL_MAX = 4096;
/**
 * A flow moves to the young end of its recency list at most this often (s): moving it for every
 * packet of interleaved flows costs more than the list is worth. Timeouts and "the idlest"
 * are therefore exact to within this time.
 */
const TOUCH_S = 0.25;

/**
 * A bidirectional 5-tuple flow. `a` is the local (or initiating) endpoint: packets a → b are "out".
 * `state` belongs to whoever owns the table (the pipeline keeps its windows and rule state there).
 */
export class Flow<T = unknown> {
  readonly srcAddr = new Uint32Array(4);
  readonly desAddr = new Uint32Array(4);
  srcPort = 0;
  desPort = 0;
  version: 4 | 6 = 4;
  proto = 0;
  hash = 0;
  // times start as NaN, a double: a field that starts as a small integer and later holds a double
  // changes its object layout once V8 has compiled the hot path, which then recompiles
  firstTs = NaN;
  lastTs = NaN;
  packets = 0;
  bytes = 0;
  /** bit 1: FIN from a, bit 2: FIN from b */
  finMask = 0;
  /** set once the flow ended (FIN/RST); it stays in the table until idle so late packets don't start a new flow */
  ended: EndReason | null = null;
  app: string | null = null;
  /** how sure the pick is, 0..1: 1 for a rule, the classifier's probability for its calls */
  certainty = 1;
  /** why the flow is (or is not) a call: the rule file and line, the classifier's score, or the rejection */
  reason = '';
  list = LIST_OTHER;
  /** bucket chain */
  chain: Flow<T> | null = null;
  /** when the flow last moved to the young end of its recency list */
  touchedTs = NaN;
  /** recency list, oldest first */
  older: Flow<T> | null = null;
  newer: Flow<T> | null = null;
  private idText = '';
  private srcText = '';
  private desText = '';

  constructor(public state: T) {}

  /** Stable flow ID, computed when first asked (most flows are never shown). */
  get id(): string {
    if (this.idText === '') this.idText = flowId(this);
    return this.idText;
  }

  /** Makes a recycled flow like new. */
  reset(): void {
    this.finMask = 0;
    this.ended = null;
    this.app = null;
    this.certainty = 1;
    this.reason = '';
    this.list = LIST_OTHER;
    this.packets = 0;
    this.bytes = 0;
    this.idText = '';
    this.srcText = '';
    this.desText = '';
  }

  get protocol(): Protocol {
    return this.proto === 6 ? 'TCP' : 'UDP';
  }

  /** Address strings are made once per flow, when someone first asks. */
  get srcIP(): string {
    if (this.srcText === '') this.srcText = formatAddr(this.srcAddr, this.version);
    return this.srcText;
  }

  get desIP(): string {
    if (this.desText === '') this.desText = formatAddr(this.desAddr, this.version);
    return this.desText;
  }

  info(): FlowInfo {
    return {
      flowID: this.id,
      srcIP: this.srcIP,
      srcPort: this.srcPort,
      desIP: this.desIP,
      desPort: this.desPort,
      protocol: this.protocol,
      firstTs: this.firstTs,
      lastTs: this.lastTs,
      packets: this.packets,
      bytes: this.bytes,
      app: this.app,
      certainty: this.certainty,
      reason: this.reason,
    };
  }
}

function sameAddr(x: Uint32Array, y: Uint32Array): boolean {
  return x[0] === y[0] && x[1] === y[1] && x[2] === y[2] && x[3] === y[3];
}

/** Lexicographic order of (address words, port): picks the canonical first endpoint of a flow ID. */
function endpointLess(xw: Uint32Array, xp: number, yw: Uint32Array, yp: number): boolean {
  for (let i = 0; i < 4; i++) if (xw[i] !== yw[i]) return xw[i] < yw[i];
  return xp < yp;
}

/**
 * Stable flow ID: 16 hex digits of a 64-bit hash of the canonical 5-tuple and the first packet's
 * time in µs. The same trace gives the same IDs; the same 5-tuple reused later gives a new one.
 */
export function flowId(f: Flow<unknown>): string {
  const srcFirst = endpointLess(f.srcAddr, f.srcPort, f.desAddr, f.desPort);
  const lo = srcFirst ? f.srcAddr : f.desAddr;
  const hi = srcFirst ? f.desAddr : f.srcAddr;
  const us = Math.round(f.firstTs * 1e6);
  return hash64Hex([
    f.version,
    f.proto,
    lo[0],
    lo[1],
    lo[2],
    lo[3],
    srcFirst ? f.srcPort : f.desPort,
    hi[0],
    hi[1],
    hi[2],
    hi[3],
    srcFirst ? f.desPort : f.srcPort,
    Math.floor(us / 0x100000000),
    us >>> 0,
  ]);
}

/**
 * The flow table: chained hash buckets keyed by a direction-independent hash of the 5-tuple
 * (so lookups compare words, never build strings), plus two recency lists (oldest first, to within
 * TOUCH_S) that make both the timeout sweep and "evict the idlest" O(1) per flow.
 */
export class FlowTable<T> {
  size = 0;
  /** direction of the packet last passed to get(): true when it went from the local side out */
  out = false;
  /** true when the last get() created the flow */
  created = false;
  private buckets: (Flow<T> | null)[];
  private mask: number;
  private readonly heads: (Flow<T> | null)[] = [null, null];
  private readonly tails: (Flow<T> | null)[] = [null, null];
  /** removed flows kept for reuse: flows come and go by the thousand, allocation and GC are the cost */
  private readonly pool: Flow<T>[] = [];

  private readonly local: CidrSet;

  constructor(
    readonly maxFlows: number,
    local: readonly Cidr[],
    private readonly newState: () => T,
    /** makes a removed flow's state like new for reuse (called for every removed flow, pooled or not) */
    private readonly recycleState: (s: T) => void,
    /** called for each flow pushed out to keep the table under maxFlows, before it is dropped */
    private readonly onEvict: (f: Flow<T>) => void,
  ) {
    this.local = new CidrSet(local);
    // start small and grow with the table: a bucket array sized for the cap would miss the cache on every packet
    const n = 1024;
    this.buckets = new Array<Flow<T> | null>(n).fill(null);
    this.mask = n - 1;
  }

  /** Finds (or creates) the flow of a UDP/TCP packet; sets `out` and `created`. */
  get(p: DecodedPacket): Flow<T> {
    const src = p.src;
    const des = p.des;
    const sp = p.srcPort;
    const dp = p.desPort;
    const h = ((endpointHash(src, sp) + endpointHash(des, dp)) ^ (p.proto * 0x01000193)) >>> 0;
    let f = this.buckets[h & this.mask];
    while (f !== null) {
      if (f.hash === h && f.proto === p.proto && f.version === p.ipVersion) {
        if (f.srcPort === sp && f.desPort === dp && sameAddr(f.srcAddr, src) && sameAddr(f.desAddr, des)) {
          this.out = true;
          this.created = false;
          if (p.ts - f.touchedTs > TOUCH_S) this.touch(f, p.ts);
          return f;
        }
        if (f.srcPort === dp && f.desPort === sp && sameAddr(f.srcAddr, des) && sameAddr(f.desAddr, src)) {
          this.out = false;
          this.created = false;
          if (p.ts - f.touchedTs > TOUCH_S) this.touch(f, p.ts);
          return f;
        }
      }
      f = f.chain;
    }
    return this.insert(p, h);
  }

  private insert(p: DecodedPacket, h: number): Flow<T> {
    if (this.size >= this.maxFlows) this.evictIdlest();
    const f = this.pool.pop() ?? new Flow<T>(this.newState());
    const srcLocal = localSide(p.src, p.des, p.ipVersion, this.local) === 'a';
    f.srcAddr.set(srcLocal ? p.src : p.des);
    f.desAddr.set(srcLocal ? p.des : p.src);
    f.srcPort = srcLocal ? p.srcPort : p.desPort;
    f.desPort = srcLocal ? p.desPort : p.srcPort;
    f.version = p.ipVersion;
    f.proto = p.proto;
    f.hash = h;
    f.firstTs = p.ts;
    f.lastTs = p.ts;
    f.touchedTs = p.ts;
    const b = h & this.mask;
    f.chain = this.buckets[b];
    this.buckets[b] = f;
    this.size++;
    this.append(f);
    this.out = srcLocal;
    this.created = true;
    if (this.size > this.buckets.length * 0.75) this.grow();
    return f;
  }

  /** Unlinks a flow from its bucket and its recency list. */
  remove(f: Flow<T>): void {
    const b = f.hash & this.mask;
    let cur = this.buckets[b];
    let prev: Flow<T> | null = null;
    while (cur !== null && cur !== f) {
      prev = cur;
      cur = cur.chain;
    }
    if (cur === null) return;
    if (prev === null) this.buckets[b] = f.chain;
    else prev.chain = f.chain;
    f.chain = null;
    this.unlink(f);
    this.size--;
    // the state is recycled even when the flow is not kept: it may hold shared resources to give back
    this.recycleState(f.state);
    if (this.pool.length < POOL_MAX) {
      f.reset();
      this.pool.push(f);
    }
  }

  /** Moves a flow to the other recency list (a flow picked as a call moves to LIST_CALL). */
  setList(f: Flow<T>, list: number): void {
    if (f.list === list) return;
    this.unlink(f);
    f.list = list;
    this.append(f);
  }

  /** The least recently active flow of a list; walk on with `.newer`. */
  oldest(list: number): Flow<T> | null {
    return this.heads[list];
  }

  /** Moves a flow that saw packets since it was last moved to the young end (see TOUCH_S). */
  refresh(f: Flow<T>): void {
    this.touch(f, f.lastTs);
  }

  /** Evicts the idlest flow, giving flows active since their last move a second chance (as the CLOCK algorithm does). */
  private evictIdlest(): void {
    for (;;) {
      const victim = this.heads[LIST_OTHER] ?? this.heads[LIST_CALL];
      if (victim === null) return;
      if (victim.lastTs > victim.touchedTs) {
        this.refresh(victim);
        continue;
      }
      this.onEvict(victim);
      this.remove(victim);
      return;
    }
  }

  private touch(f: Flow<T>, ts: number): void {
    f.touchedTs = ts;
    if (this.tails[f.list] === f) return;
    this.unlink(f);
    this.append(f);
  }

  private append(f: Flow<T>): void {
    const t = this.tails[f.list];
    f.older = t;
    f.newer = null;
    if (t === null) this.heads[f.list] = f;
    else t.newer = f;
    this.tails[f.list] = f;
  }

  private unlink(f: Flow<T>): void {
    if (f.older === null) this.heads[f.list] = f.newer;
    else f.older.newer = f.newer;
    if (f.newer === null) this.tails[f.list] = f.older;
    else f.newer.older = f.older;
    f.older = null;
    f.newer = null;
  }

  private grow(): void {
    const old = this.buckets;
    const n = old.length * 2;
    this.buckets = new Array<Flow<T> | null>(n).fill(null);
    this.mask = n - 1;
    for (let i = 0; i < old.length; i++) {
      let f = old[i];
      while (f !== null) {
        const next = f.chain;
        const b = f.hash & this.mask;
        f.chain = this.buckets[b];
        this.buckets[b] = f;
        f = next;
      }
    }
  }
}
