import { isIPv4 } from 'node:net';
import { parseAddr } from '../capture/addr';
import { cidrOf, inCidr, type Cidr } from '../flow/local';
import { UserError } from '../util/errors';

/**
 * An address pattern of the display filter. IPv4 patterns (exact, wildcard, CIDR) are a value and
 * a bit mask, so `10.*.3.*` is as cheap to test as `10.0.0.0/8`. IPv6 patterns are a range (flow/local.ts).
 */
export type IpPattern =
  | { kind: 'v4'; text: string; value: number; mask: number }
  | { kind: 'v6'; text: string; range: Cidr }
  /** the view over many sensors: a sensor name, `*` for any run of characters */
  | { kind: 'sensor'; text: string; re: RegExp };

const V4_WILDCARD = /^[0-9*]+(\.[0-9*]+){0,3}$/;

/** A refused pattern; `reason` alone is what the Filter dialog shows under the typed text. */
export class PatternError extends UserError {
  constructor(
    readonly pattern: string,
    readonly reason: string,
  ) {
    super(`bad address pattern '${pattern}': ${reason}`);
  }
}

function bad(s: string, why: string): PatternError {
  return new PatternError(s, why);
}

function octet(s: string, part: string): number {
  if (!/^\d{1,3}$/.test(part)) throw bad(s, `'${part}' is not a number from 0 to 255 or *`);
  const n = Number(part);
  if (n > 255) throw bad(s, `${n} is out of range 0-255`);
  return n;
}

function prefixLength(s: string, text: string, max: number): number {
  if (!/^\d{1,3}$/.test(text) || Number(text) > max) throw bad(s, `prefix length '/${text}' must be 0 to ${max}`);
  return Number(text);
}

/** `24.62.*` → 24.62.X.X: a trailing * stands for all the octets left out. */
function parseV4Wildcard(s: string, body: string): IpPattern {
  const parts = body.split('.');
  if (parts.length < 4) {
    if (parts[parts.length - 1] !== '*')
      throw bad(s, 'an IPv4 address has 4 parts; end a shorter one with * (e.g. 24.62.*)');
    while (parts.length < 4) parts.push('*');
  }
  let value = 0;
  let mask = 0;
  for (const part of parts) {
    const wild = part === '*';
    value = value * 256 + (wild ? 0 : octet(s, part));
    mask = mask * 256 + (wild ? 0 : 255);
  }
  return { kind: 'v4', text: s, value: value >>> 0, mask: mask >>> 0 };
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

/** Parses a dotted quad without allocating; -1 when `ip` is not one. */
export function ipv4ToInt(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + (c - 48);
      digits++;
      if (part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0) return -1;
  return (value * 256 + part) >>> 0;
}

/**
 * One filter pattern: an exact IPv4 or IPv6 address, an IPv4 wildcard (`24.62.*`, `10.*.3.*`),
 * an IPv4 CIDR (`10.0.0.0/8`) or an IPv6 prefix (`2001:db8::/32`). Bad input throws a UserError
 * saying what is wrong with it.
 */
export function parseIpPattern(input: string): IpPattern {
  const s = input.trim();
  if (s === '')
    throw bad(
      input,
      'empty; type an address, a wildcard like 24.62.*, a CIDR like 10.0.0.0/8 or a prefix like 2001:db8::/32',
    );
  const slash = s.indexOf('/');
  const body = slash >= 0 ? s.slice(0, slash) : s;
  const prefixText = slash >= 0 ? s.slice(slash + 1) : null;
  if (body.includes(':')) {
    if (body.includes('*')) throw bad(s, 'wildcards are for IPv4; for IPv6 use a prefix like 2001:db8::/32');
    const addr = parseAddr(withoutZone(body));
    if (!addr) throw bad(s, `'${body}' is not an IPv6 address`);
    const prefix = prefixText === null ? 128 : prefixLength(s, prefixText, 128);
    return { kind: 'v6', text: s, range: cidrOf(s, 6, addr.words, prefix) };
  }
  if (!V4_WILDCARD.test(body)) throw bad(s, 'use digits, dots and * (IPv4) or hex digits and colons (IPv6)');
  if (prefixText !== null) {
    if (body.includes('*')) throw bad(s, 'use either a wildcard or a /prefix, not both');
    if (!isIPv4(body) && body.split('.').length === 4) throw bad(s, `'${body}' is not an IPv4 address`);
    if (body.split('.').length !== 4) throw bad(s, 'a CIDR needs a full address, e.g. 10.0.0.0/8');
    const mask = v4Mask(prefixLength(s, prefixText, 32));
    return { kind: 'v4', text: s, value: (ipv4ToInt(body) & mask) >>> 0, mask };
  }
  return parseV4Wildcard(s, body);
}

/** `fe80::1%eth0` → `fe80::1`: the zone names a link, not part of the address. */
function withoutZone(ip: string): string {
  const zone = ip.indexOf('%');
  return zone >= 0 ? ip.slice(0, zone) : ip;
}

/** `::ffff:a.b.c.d` is the IPv4 address a.b.c.d for an IPv4 pattern. */
function mappedV4(ip: string): number {
  const lower = ip.toLowerCase();
  return lower.startsWith('::ffff:') ? ipv4ToInt(lower.slice(7)) : -1;
}

export function matchesIp(p: IpPattern, ip: string): boolean {
  if (p.kind === 'sensor') return false;
  if (p.kind === 'v4') {
    let v = ipv4ToInt(ip);
    if (v < 0) v = mappedV4(ip);
    return v >= 0 && (v & p.mask) >>> 0 === p.value;
  }
  if (!ip.includes(':')) return false;
  const addr = parseAddr(withoutZone(ip));
  return addr !== null && inCidr(addr.words, addr.version, p.range);
}

/** A flow is shown if either endpoint (or its sensor) matches any pattern; no patterns shows every flow. */
export function matchesAny(patterns: readonly IpPattern[], srcIp: string, desIp: string, sensor?: string): boolean {
  if (patterns.length === 0) return true;
  for (const p of patterns) {
    if (p.kind === 'sensor' ? sensor !== undefined && p.re.test(sensor) : matchesIp(p, srcIp) || matchesIp(p, desIp)) {
      return true;
    }
  }
  return false;
}

const SENSOR_GLOB = /^[A-Za-z0-9._*-]{1,63}$/;

/**
 * A filter pattern: an address pattern (parseIpPattern), or, in the view over many sensors
 * (`sensors`), a sensor name with `*` wildcards for anything that is not one.
 */
export function parsePattern(input: string, sensors: boolean): IpPattern {
  try {
    return parseIpPattern(input);
  } catch (err) {
    const s = input.trim();
    if (!sensors || !(err instanceof PatternError)) throw err;
    if (!SENSOR_GLOB.test(s)) throw bad(s, `${err.reason}; or a sensor name (letters, digits, . _ - and *)`);
    const re = new RegExp(`^${s.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`, 'i');
    return { kind: 'sensor', text: s, re };
  }
}
