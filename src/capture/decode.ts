import {
  DecodedPacket,
  IPPROTO_TCP,
  IPPROTO_UDP,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_LINUX_SLL,
  LINKTYPE_LINUX_SLL2,
  LINKTYPE_LOOP,
  LINKTYPE_NULL,
  LINKTYPE_RAW,
  RawPacket,
} from './types';
import { u16be, u32be, u32le } from './bytes';

/**
 * Link layer → IPv4/IPv6 → UDP/TCP, on the per-packet path: no allocation, no DataView, only byte
 * math on the caller's buffer. Everything is bounds-checked against the captured length, so a
 * truncated or damaged frame yields less information, never an exception.
 */

/** Link types decodePacket understands, with the names used in error messages. */
export const SUPPORTED_LINKTYPES: ReadonlyMap<number, string> = new Map([
  [LINKTYPE_NULL, 'BSD loopback'],
  [LINKTYPE_ETHERNET, 'Ethernet'],
  [LINKTYPE_RAW, 'raw IP'],
  [LINKTYPE_LOOP, 'OpenBSD loopback'],
  [LINKTYPE_LINUX_SLL, 'Linux cooked SLL'],
  [LINKTYPE_IPV4, 'raw IPv4'],
  [LINKTYPE_IPV6, 'raw IPv6'],
  [LINKTYPE_LINUX_SLL2, 'Linux cooked SLL2'],
]);

/** "0 (BSD loopback), 1 (Ethernet), …" for error messages. */
export function describeSupportedLinkTypes(): string {
  return [...SUPPORTED_LINKTYPES].map(([n, name]) => `${n} (${name})`).join(', ');
}

const ETHERTYPE_IPV4 = 0x0800;
const ETHERTYPE_IPV6 = 0x86dd;
/** 802.1Q, 802.1ad, and the pre-standard QinQ outer tag. */
const ETHERTYPE_VLAN = 0x8100;
const ETHERTYPE_QINQ = 0x88a8;
const ETHERTYPE_QINQ_OLD = 0x9100;
const ETHERTYPE_PPPOE_SESSION = 0x8864;
const PPP_IPV4 = 0x0021;
const PPP_IPV6 = 0x0057;
const ETHERTYPE_MPLS = 0x8847;
const ETHERTYPE_MPLS_MULTICAST = 0x8848;
/** Link types without an ethertype: the IP version nibble decides. */
const BY_VERSION = 0;
const NOT_IP = -1;

/** AF_INET is 2 everywhere; AF_INET6 is 10 on Linux, 24 on NetBSD/OpenBSD, 28 on FreeBSD, 30 on macOS. */
function bsdFamilyToEthertype(af: number): number {
  if (af === 2) return ETHERTYPE_IPV4;
  if (af === 24 || af === 28 || af === 30 || af === 10) return ETHERTYPE_IPV6;
  return NOT_IP;
}

const EMPTY = Buffer.alloc(0);

export function newRawPacket(): RawPacket {
  return { buf: EMPTY, off: 0, capLen: 0, wireLen: 0, ts: 0, linkType: LINKTYPE_ETHERNET };
}

export function newDecodedPacket(): DecodedPacket {
  return {
    ts: 0,
    wireLen: 0,
    ipLen: 0,
    ipVersion: 4,
    proto: 0,
    src: new Uint32Array(4),
    des: new Uint32Array(4),
    srcPort: 0,
    desPort: 0,
    tcpFlags: 0,
    fragment: false,
    buf: EMPTY,
    payloadOff: 0,
    payloadCapLen: 0,
    payloadLen: 0,
  };
}

/** Decodes one frame into `out`; true when it carries IPv4 or IPv6 (whatever the transport). */
export function decodePacket(raw: RawPacket, out: DecodedPacket): boolean {
  const b = raw.buf;
  const start = raw.off;
  const end = start + raw.capLen;
  let p: number;
  let etype: number;
  switch (raw.linkType) {
    case LINKTYPE_ETHERNET:
      if (start + 14 > end) return false;
      etype = u16be(b, start + 12);
      p = start + 14;
      break;
    case LINKTYPE_LINUX_SLL:
      if (start + 16 > end) return false;
      etype = u16be(b, start + 14);
      p = start + 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      if (start + 20 > end) return false;
      etype = u16be(b, start);
      p = start + 20;
      break;
    case LINKTYPE_RAW:
    case LINKTYPE_IPV4:
    case LINKTYPE_IPV6:
      etype = BY_VERSION;
      p = start;
      break;
    case LINKTYPE_NULL:
    case LINKTYPE_LOOP: {
      if (start + 4 > end) return false;
      // The family is in the capturing host's byte order (NULL) or network order (LOOP); real
      // files get this wrong both ways, and the small value tells which one it is.
      const le = u32le(b, start);
      etype = bsdFamilyToEthertype(le <= 0xffff ? le : u32be(b, start));
      p = start + 4;
      break;
    }
    default:
      return false;
  }
  while (etype === ETHERTYPE_VLAN || etype === ETHERTYPE_QINQ || etype === ETHERTYPE_QINQ_OLD) {
    if (p + 4 > end) return false;
    etype = u16be(b, p + 2);
    p += 4;
  }
  if (etype === ETHERTYPE_PPPOE_SESSION) {
    // PPPoE header (6 bytes), then the PPP protocol: what DSL links carry.
    if (p + 8 > end) return false;
    const ppp = u16be(b, p + 6);
    etype = ppp === PPP_IPV4 ? ETHERTYPE_IPV4 : ppp === PPP_IPV6 ? ETHERTYPE_IPV6 : NOT_IP;
    p += 8;
  } else if (etype === ETHERTYPE_MPLS || etype === ETHERTYPE_MPLS_MULTICAST) {
    // Labels until the bottom-of-stack bit; MPLS does not say what it carries, so the version nibble does.
    do {
      if (p + 4 > end) return false;
      p += 4;
    } while ((b[p - 2] & 1) === 0);
    etype = BY_VERSION;
  }
  if (etype === BY_VERSION) {
    if (p >= end) return false;
    const v = b[p] >> 4;
    etype = v === 4 ? ETHERTYPE_IPV4 : v === 6 ? ETHERTYPE_IPV6 : NOT_IP;
  }
  if (etype === ETHERTYPE_IPV4) return decodeIpv4(raw, p, end, out);
  if (etype === ETHERTYPE_IPV6) return decodeIpv6(raw, p, end, out);
  return false;
}

function decodeIpv4(raw: RawPacket, p: number, end: number, out: DecodedPacket): boolean {
  const b = raw.buf;
  if (p + 20 > end || b[p] >> 4 !== 4) return false;
  const hdrLen = (b[p] & 15) * 4;
  if (hdrLen < 20) return false;
  let ipLen = u16be(b, p + 2);
  // Segmentation offload: the sending host's own capture shows a 0 total length.
  if (ipLen === 0) ipLen = raw.wireLen - (p - raw.off);
  if (ipLen < hdrLen) return false;
  out.ts = raw.ts;
  out.wireLen = raw.wireLen;
  out.ipLen = ipLen;
  out.ipVersion = 4;
  out.proto = b[p + 9];
  const src = out.src;
  src[0] = u32be(b, p + 12);
  src[1] = 0;
  src[2] = 0;
  src[3] = 0;
  const des = out.des;
  des[0] = u32be(b, p + 16);
  des[1] = 0;
  des[2] = 0;
  des[3] = 0;
  const nonFirstFragment = (u16be(b, p + 6) & 0x1fff) !== 0;
  const ipEnd = p + ipLen;
  decodeTransport(b, p + hdrLen, ipEnd < end ? ipEnd : end, ipLen - hdrLen, nonFirstFragment, out);
  return true;
}

const EXT_HOP_BY_HOP = 0;
const EXT_ROUTING = 43;
const EXT_FRAGMENT = 44;
const EXT_AH = 51;
const EXT_DEST_OPTS = 60;
const EXT_MOBILITY = 135;
/** Bounds the walk: a damaged packet may chain headers forever. */
const MAX_EXT_HEADERS = 16;

function decodeIpv6(raw: RawPacket, p: number, end: number, out: DecodedPacket): boolean {
  const b = raw.buf;
  if (p + 40 > end || b[p] >> 4 !== 6) return false;
  const payloadLen = u16be(b, p + 4);
  // 0 means a jumbogram or segmentation offload: the frame length is the best we know.
  const ipLen = payloadLen === 0 ? raw.wireLen - (p - raw.off) : payloadLen + 40;
  if (ipLen < 40) return false;
  out.ts = raw.ts;
  out.wireLen = raw.wireLen;
  out.ipLen = ipLen;
  out.ipVersion = 6;
  const src = out.src;
  src[0] = u32be(b, p + 8);
  src[1] = u32be(b, p + 12);
  src[2] = u32be(b, p + 16);
  src[3] = u32be(b, p + 20);
  const des = out.des;
  des[0] = u32be(b, p + 24);
  des[1] = u32be(b, p + 28);
  des[2] = u32be(b, p + 32);
  des[3] = u32be(b, p + 36);
  const ipEnd = p + ipLen;
  const capEnd = ipEnd < end ? ipEnd : end;
  let next = b[p + 6];
  let q = p + 40;
  let nonFirstFragment = false;
  for (let i = 0; i < MAX_EXT_HEADERS; i++) {
    let hdrLen: number;
    if (next === EXT_HOP_BY_HOP || next === EXT_ROUTING || next === EXT_DEST_OPTS || next === EXT_MOBILITY) {
      if (q + 2 > capEnd) break;
      hdrLen = (b[q + 1] + 1) * 8;
    } else if (next === EXT_FRAGMENT) {
      if (q + 8 > capEnd) break;
      nonFirstFragment = u16be(b, q + 2) >> 3 !== 0;
      hdrLen = 8;
    } else if (next === EXT_AH) {
      if (q + 2 > capEnd) break;
      hdrLen = (b[q + 1] + 2) * 4;
    } else {
      break;
    }
    next = b[q];
    q += hdrLen;
    if (nonFirstFragment) break;
  }
  out.proto = next;
  decodeTransport(b, q, capEnd, ipEnd - q, nonFirstFragment, out);
  return true;
}

/**
 * Fills ports, flags and payload bounds. `l4Len` is the transport length from the IP header (the
 * truth even when the capture was cut short); `capEnd` is where the captured bytes of this IP
 * packet stop (Ethernet padding excluded).
 */
function decodeTransport(
  b: Buffer,
  l4: number,
  capEnd: number,
  l4Len: number,
  nonFirstFragment: boolean,
  out: DecodedPacket,
): void {
  out.buf = b;
  out.fragment = nonFirstFragment;
  out.srcPort = 0;
  out.desPort = 0;
  out.tcpFlags = 0;
  if (l4Len < 0) l4Len = 0;
  let hdrLen = 0;
  if (!nonFirstFragment) {
    const proto = out.proto;
    if (proto === IPPROTO_UDP || proto === IPPROTO_TCP) {
      // A snaplen may cut the transport header: take what is there (ports need 4 bytes, the UDP
      // length 6, TCP flags 14); sizes are known from IP either way.
      if (l4 + 4 <= capEnd) {
        out.srcPort = u16be(b, l4);
        out.desPort = u16be(b, l4 + 2);
      }
      if (proto === IPPROTO_UDP) {
        hdrLen = 8;
        const udpLen = l4 + 6 <= capEnd ? u16be(b, l4 + 4) : 0;
        // The UDP length covers the whole datagram even in a first fragment; trust it when sane.
        if (udpLen >= 8) l4Len = udpLen;
      } else if (l4 + 14 <= capEnd) {
        out.tcpFlags = b[l4 + 13];
        hdrLen = (b[l4 + 12] >> 4) * 4;
        if (hdrLen < 20) hdrLen = 20;
      } else {
        hdrLen = 20;
      }
    }
  }
  const payloadOff = l4 + hdrLen;
  out.payloadOff = payloadOff;
  out.payloadLen = l4Len > hdrLen ? l4Len - hdrLen : 0;
  const cap = capEnd - payloadOff;
  out.payloadCapLen = cap < 0 ? 0 : cap < out.payloadLen ? cap : out.payloadLen;
}
