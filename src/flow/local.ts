import { parseAddr } from '../capture/addr';
import { UserError } from '../util/errors';

/** An address range: `words` already masked, compared word by word against packet addresses. */
export interface Cidr {
  text: string;
  version: 4 | 6;
  words: Uint32Array;
  masks: Uint32Array;
  /** one endpoint only, when --local named its port too (`127.0.0.1:47660`) */
  port?: number;
}

function maskWords(version: 4 | 6, prefix: number): Uint32Array {
  const masks = new Uint32Array(4);
  const bits = version === 4 ? 32 : 128;
  let left = Math.min(prefix, bits);
  for (let i = 0; i < 4 && left > 0; i++) {
    const take = Math.min(32, left);
    masks[i] = take === 32 ? 0xffffffff : (0xffffffff << (32 - take)) >>> 0;
    left -= take;
  }
  return masks;
}

/** `10.0.0.0/8`, `2001:db8::/32`, or a bare address (a /32 or /128). */
export function parseCidr(s: string): Cidr {
  const text = s.trim();
  const slash = text.indexOf('/');
  const addrText = slash >= 0 ? text.slice(0, slash) : text;
  const addr = parseAddr(addrText);
  if (!addr) throw new UserError(`'${s}' is not an address or address range (e.g. 192.168.1.0/24 or 2001:db8::/32)`);
  const max = addr.version === 4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) {
      throw new UserError(`'${s}': prefix length must be a whole number from 0 to ${max}`);
    }
    prefix = Number(p);
  }
  return cidrOf(text, addr.version, addr.words, prefix);
}

const ENDPOINT_V4 = /^(\d+\.\d+\.\d+\.\d+):(\d+)$/;
const ENDPOINT_V6 = /^\[([^\]]+)\]:(\d+)$/;

/**
 * A --local value: what parseCidr takes, or one endpoint, `ADDR:PORT` (`[ADDR]:PORT` for IPv6):
 * the way to say which side is ours when both peers of a call share an address.
 */
export function parseLocal(s: string): Cidr {
  const text = s.trim();
  const m = ENDPOINT_V4.exec(text) ?? ENDPOINT_V6.exec(text);
  if (!m) return parseCidr(text);
  const port = Number(m[2]);
  if (!/^\d{1,5}$/.test(m[2]) || port < 1 || port > 65535) {
    throw new UserError(`'${s}': the port must be a number from 1 to 65535`);
  }
  const addr = parseAddr(m[1]);
  if (!addr) throw new UserError(`'${s}' is not ADDR:PORT (e.g. 127.0.0.1:47660 or [2001:db8::1]:5004)`);
  return { ...cidrOf(text, addr.version, addr.words, addr.version === 4 ? 32 : 128), port };
}

/** The range of `prefix` leading bits of an address. */
export function cidrOf(text: string, version: 4 | 6, addr: Uint32Array, prefix: number): Cidr {
  const masks = maskWords(version, prefix);
  const words = new Uint32Array(4);
  for (let i = 0; i < 4; i++) words[i] = (addr[i] & masks[i]) >>> 0;
  return { text, version, words, masks };
}

export function inCidr(words: Uint32Array, version: 4 | 6, c: Cidr): boolean {
  if (c.version !== version) return false;
  const m = c.masks;
  const w = c.words;
  return (
    (words[0] & m[0]) >>> 0 === w[0] &&
    (words[1] & m[1]) >>> 0 === w[1] &&
    (words[2] & m[2]) >>> 0 === w[2] &&
    (words[3] & m[3]) >>> 0 === w[3]
  );
}

/** True when the address lies in any of the ranges. */
export function isLocal(words: Uint32Array, version: 4 | 6, local: readonly Cidr[]): boolean {
  for (let i = 0; i < local.length; i++) if (inCidr(words, version, local[i])) return true;
  return false;
}

/**
 * A set of ranges asked about once per new flow (rules, private ranges): IPv4 ranges merged and
 * binary-searched, so a rule with twenty published ranges costs five comparisons, not twenty.
 */
export class CidrSet {
  private readonly v4: Float64Array;
  private readonly v6: readonly Cidr[];

  constructor(readonly cidrs: readonly Cidr[]) {
    const spans = cidrs
      .filter((c) => c.version === 4)
      .map((c) => [c.words[0], c.words[0] + (~c.masks[0] >>> 0)])
      .sort((a, b) => a[0] - b[0]);
    const merged: number[] = [];
    for (const [lo, hi] of spans) {
      const n = merged.length;
      if (n > 0 && lo <= merged[n - 1] + 1) merged[n - 1] = Math.max(merged[n - 1], hi);
      else merged.push(lo, hi);
    }
    this.v4 = Float64Array.from(merged);
    this.v6 = cidrs.filter((c) => c.version === 6);
  }

  has(words: Uint32Array, version: 4 | 6): boolean {
    if (version === 6) return isLocal(words, 6, this.v6);
    const a = words[0];
    const r = this.v4;
    // the last span starting at or below a
    let lo = 0;
    let hi = r.length / 2 - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (r[2 * mid] <= a) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && a <= r[2 * hi + 1];
  }
}

/** Private, loopback, link-local, CGNAT and unique-local ranges: addresses that are "ours" when no --local says otherwise. */
const PRIVATE_RANGES = new CidrSet(
  [
    '10.0.0.0/8',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '100.64.0.0/10',
    '::1/128',
    'fc00::/7',
    'fe80::/10',
  ].map(parseCidr),
);

/** The --local list, split: endpoints (ADDR:PORT) and address ranges. */
export class LocalSides {
  readonly endpoints: readonly Cidr[];
  readonly ranges: CidrSet;

  constructor(local: readonly Cidr[]) {
    this.endpoints = local.filter((c) => c.port !== undefined);
    this.ranges = new CidrSet(local.filter((c) => c.port === undefined));
  }

  /** Is (address, port) one of the endpoints named? */
  endpoint(words: Uint32Array, version: 4 | 6, port: number): boolean {
    for (const e of this.endpoints) if (e.port === port && inCidr(words, version, e)) return true;
    return false;
  }
}

/**
 * Which endpoint is local: 'a' or 'b' (a = the first packet's source, the initiator). The --local
 * endpoints (ADDR:PORT) decide when they tell the two apart, then its address ranges, then the
 * private-address rule, then the initiator.
 */
export function localSide(
  a: Uint32Array,
  aPort: number,
  b: Uint32Array,
  bPort: number,
  version: 4 | 6,
  local: LocalSides,
): 'a' | 'b' {
  if (local.endpoints.length > 0) {
    const ea = local.endpoint(a, version, aPort);
    if (ea !== local.endpoint(b, version, bPort)) return ea ? 'a' : 'b';
  }
  if (local.ranges.cidrs.length > 0) {
    const la = local.ranges.has(a, version);
    if (la !== local.ranges.has(b, version)) return la ? 'a' : 'b';
  }
  const pa = PRIVATE_RANGES.has(a, version);
  if (pa !== PRIVATE_RANGES.has(b, version)) return pa ? 'a' : 'b';
  return 'a';
}
