/**
 * Header shapes of real-time media, read from the first bytes of a UDP payload (or of a TCP
 * segment, `stream`). Encryption (SRTP, DTLS, the apps' own) leaves these headers in the clear,
 * which is what makes calls recognisable. Each shape says where its layout comes from; the rule
 * files that use them (rules/*.rules) say it again for the operator. No function here allocates:
 * they run for the first packets of every candidate flow.
 */

export const SHAPE_NONE = 0;
export const SHAPE_STUN = 1;
export const SHAPE_DTLS = 2;
export const SHAPE_RTP = 3;
export const SHAPE_RTCP = 4;
export const SHAPE_ZOOM = 5;
/** STUN-framed message of WhatsApp's relay protocol (types 0x0800-0x0805): a STUN message too */
export const SHAPE_WA_STUN = 6;
/** RFC 3489 STUN without the magic cookie, as Microsoft's stack sends it ([MS-TURN], [MS-ICE2]): a STUN message too */
export const SHAPE_MS_STUN = 12;
/** IMO's framing: a varint length of the rest of the datagram, or IMO's short probes */
export const SHAPE_IMO = 7;
/** LINE's media header: 5 type bits 0b11010/0b11011, 11 length bits, a 16-bit sequence */
export const SHAPE_LINE = 8;
/** a QUIC long header (RFC 9000 §17.2, Google QUIC Q0xx): web traffic, never a call */
export const SHAPE_QUIC = 9;
/** a WireGuard message (type 1-4, three zero bytes, fixed or 16-aligned lengths): a tunnel */
export const SHAPE_WIREGUARD = 10;
/** an OpenVPN packet header (opcode/key-id byte of a control, ack or data packet): a tunnel */
export const SHAPE_OPENVPN = 11;

const STUN_COOKIE = 0x2112a442;

/** Zoom media-encapsulation types (published reverse engineering, IMC 2022): 13 screen, 15 audio, 16 video, 33–35 RTCP. */
function zoomMediaHeaderLen(type: number): number {
  switch (type) {
    case 13: return 27;
    case 15: return 19;
    case 16: return 24;
    case 33: case 34: case 35: return 16;
    default: return 0;
  }
}

function isRtpVersion(b: number): boolean {
  return (b & 0xc0) === 0x80;
}

/**
 * RFC 3489 ("classic") STUN message types that carry no magic cookie, as Skype for Business and
 * Teams ([MS-TURN], [MS-ICE2]) still send them: binding, allocate, send and data indication.
 */
function isClassicStunType(t: number): boolean {
  switch (t) {
    case 0x0001: case 0x0101: case 0x0111: case 0x0003: case 0x0103: case 0x0113:
    case 0x0004: case 0x0104: case 0x0114: case 0x0115: case 0x0016: case 0x0017:
      return true;
    default:
      return false;
  }
}

/**
 * RFC 5389 STUN (cookie) or RFC 3489 STUN: SHAPE_STUN, SHAPE_WA_STUN for WhatsApp's relay types,
 * or SHAPE_NONE. `stream`: over TCP a segment may hold more than one message (RFC 6062).
 */
function stunShape(buf: Buffer, off: number, cap: number, len: number, stream: boolean): number {
  if (cap < 8 || (buf[off] & 0xc0) !== 0) return SHAPE_NONE;
  const type = buf.readUInt16BE(off);
  const msgLen = buf.readUInt16BE(off + 2) + 20;
  if (stream ? msgLen > len : msgLen !== len) return SHAPE_NONE;
  if (buf.readUInt32BE(off + 4) === STUN_COOKIE) {
    // WhatsApp's relays answer allocations with messages of types 0x0800-0x0805, magic cookie kept
    // (seen in nDPI's whatsapp_voice_and_message capture; nDPI's stun.c names them WhatsApp calls)
    if (type >= 0x0800 && type <= 0x0805) return SHAPE_WA_STUN;
  } else if ((msgLen & 3) !== 0 || !isClassicStunType(type)) return SHAPE_NONE;
  // media relayed without a channel travels in the DATA attribute of Send/Data indications
  const d = indicationData(buf, off, cap);
  if (d >= 0) {
    const inner = payloadShape(buf, d, cap - (d - off), dataLen);
    if (inner === SHAPE_RTP || inner === SHAPE_RTCP) return inner;
  }
  return buf.readUInt32BE(off + 4) === STUN_COOKIE ? SHAPE_STUN : SHAPE_MS_STUN;
}

/** Length of the DATA attribute indicationData() found. */
let dataLen = 0;

/**
 * Where the DATA attribute's value (0x0013) of a TURN Send/Data indication (RFC 8656: 0x0016,
 * 0x0017; [MS-TURN]: Send request 0x0004, Data indication 0x0115) starts, or -1. Only the
 * captured bytes are walked.
 */
function indicationData(buf: Buffer, off: number, cap: number): number {
  const type = buf.readUInt16BE(off);
  if (type !== 0x0016 && type !== 0x0017 && type !== 0x0115 && type !== 0x0004) return -1;
  const end = off + cap;
  for (let a = off + 20; a + 4 <= end; ) {
    const at = buf.readUInt16BE(a);
    const al = buf.readUInt16BE(a + 2);
    if (at === 0x0013) {
      dataLen = al;
      return a + 4;
    }
    a += 4 + ((al + 3) & ~3);
  }
  return -1;
}

/**
 * A varint of up to three bytes, 7 bits each, most significant group first, high bit set on all
 * but the last: the value, or -1 when it runs past `end` or is longer than three bytes.
 * `varintBytes` says how many bytes it took.
 */
let varintBytes = 0;
function readVarint(buf: Buffer, off: number, end: number): number {
  let v = 0;
  for (let i = 0; i < 3 && off + i < end; i++) {
    const b = buf[off + i];
    v = (v << 7) | (b & 0x7f);
    if ((b & 0x80) === 0) {
      varintBytes = i + 1;
      return v;
    }
  }
  return -1;
}

/**
 * IMO (imo.im) calls: every datagram is a frame whose varint length (optionally after a zero
 * byte, towards the relays) is exactly the rest of the datagram, followed by a message type —
 * read from nDPI's imo capture, and consistent with nDPI's imo.c (its 1099-byte pattern 88 49 1a
 * is the varint 1097 then type 0x1a). Also IMO's 10/11-byte probes (09 02 / 00 09 03, imo.c).
 */
function isImo(buf: Buffer, off: number, cap: number, len: number): boolean {
  const b0 = buf[off];
  if (len === 10 && b0 === 0x09 && buf[off + 1] === 0x02) return true;
  if (len === 10 && b0 === 0x09 && buf[off + 1] === 0x03) return true;
  if (len === 11 && b0 === 0x00 && buf[off + 1] === 0x09 && buf[off + 2] === 0x03) return true;
  if (len < 8) return false;
  const end = off + Math.min(cap, 4);
  let o = off + (b0 === 0 ? 1 : 0);
  const v = readVarint(buf, o, end);
  if (v < 4) return false;
  o += varintBytes;
  return v === len - (o - off);
}

/**
 * LINE calls: a 4-byte header whose first 5 bits are 0b11010 or 0b11011, whose next 11 bits are
 * the length of the rest, then a per-direction 16-bit sequence (read from nDPI's line capture; nDPI's
 * line.c keys on the same per-direction counter). Between them LINE sends plain RTP and RTCP.
 */
function isLine(buf: Buffer, off: number, len: number): boolean {
  const b0 = buf[off];
  if ((b0 & 0xf0) !== 0xd0) return false;
  return (((b0 & 0x07) << 8) | buf[off + 1]) + 4 === len;
}

/** A QUIC long header: the header form and fixed bits, then a version we know (RFC 9000, RFC 9369, drafts, gQUIC). */
function isQuicLong(buf: Buffer, off: number, cap: number): boolean {
  const b0 = buf[off];
  // Google QUIC before Q046: public flags with the version bit (and an 8-byte connection ID), "Q0dd"
  if ((b0 & 0xc9) === 0x09 && cap >= 13 && buf[off + 9] === 0x51 && buf[off + 10] === 0x30 && isDigit(buf[off + 11])) {
    return isDigit(buf[off + 12]);
  }
  if (cap < 6 || (b0 & 0xc0) !== 0xc0) return false;
  const v = buf.readUInt32BE(off + 1);
  if (v === 1 || v === 0x6b3343cf || v === 0 || v >>> 8 === 0xff0000) return true;
  // Google QUIC: "Q0" and two digits ("Q046", "Q050")
  return v >>> 16 === 0x5130 && isDigit(buf[off + 3]) && isDigit(buf[off + 4]);
}

function isDigit(b: number): boolean {
  return b >= 0x30 && b <= 0x39;
}

/** WireGuard (the protocol paper, §5.4): handshake initiation 148, response 92, cookie 64 bytes; data 16-aligned, ≥ 32. */
function isWireguard(buf: Buffer, off: number, cap: number, len: number): boolean {
  if (cap < 4 || buf[off + 1] !== 0 || buf[off + 2] !== 0 || buf[off + 3] !== 0) return false;
  switch (buf[off]) {
    case 1: return len === 148;
    case 2: return len === 92;
    case 3: return len === 64;
    case 4: return len >= 32 && (len & 15) === 0;
    default: return false;
  }
}

/**
 * OpenVPN over UDP (its ssl.h opcodes, shifted left 3 over the key id): control hard resets
 * (7, 8, 10), control (4), ack (5), data v1 (6) and v2 (9) — the first bytes of every packet in
 * nDPI's openvpn capture. One byte is weak evidence: the tunnel rule asks for nearly every packet.
 */
function isOpenvpn(buf: Buffer, off: number, len: number): boolean {
  // NTP's 48 bytes start with the same bits (LI, version 4, mode 3/4: 0x23, 0x24)
  if ((len < 14 && buf[off] >> 3 !== 6) || len === 48) return false;
  switch (buf[off] >> 3) {
    case 4: case 5: case 6: case 9:
      return true;
    // the hard resets that open a session are small; MPEG-TS's 0x47 sync byte reads as one
    case 7: case 8: case 10:
      return len <= 100;
    default:
      return false;
  }
}

/**
 * Classifies one payload. `cap` bytes of it were captured (snaplen), `len` is its length on the
 * wire; `stream` for a TCP segment. Returns a SHAPE_* code; for RTP, `rtpSsrc()` then reads the SSRC.
 */
export function payloadShape(buf: Buffer, off: number, cap: number, len: number, stream = false): number {
  if (cap < 4) return SHAPE_NONE;
  const b0 = buf[off];
  const b1 = buf[off + 1];
  if (isRtpVersion(b0)) {
    // RFC 5761 demultiplexing: second byte 192–223 is RTCP, otherwise RTP with a payload type
    if (b1 >= 192 && b1 <= 223) {
      if (len >= 8) return SHAPE_RTCP;
    } else {
      const pt = b1 & 0x7f;
      if (len >= 12 && (pt <= 34 || pt >= 96)) return SHAPE_RTP;
    }
    // not RTP after all: other headers start with these bits too (IMO's two-byte lengths)
  }
  if ((b0 & 0xc0) === 0) {
    const s = stunShape(buf, off, cap, len, stream);
    if (s !== SHAPE_NONE) return s;
  }
  if (b0 >= 20 && b0 <= 23 && b1 === 0xfe && (buf[off + 2] === 0xff || buf[off + 2] === 0xfd)) return SHAPE_DTLS;
  if (b0 === 0x05 && cap >= 9 && zoomMediaHeaderLen(buf[off + 8]) > 0) return SHAPE_ZOOM;
  const zl = zoomMediaHeaderLen(b0);
  if (zl > 0 && cap > zl && isRtpVersion(buf[off + zl])) return SHAPE_ZOOM;
  // TURN ChannelData (RFC 8656 §12: channel 0x4000–0x4FFF, length; over UDP padded to 4, over
  // TCP followed by the next frame): look at what it carries
  if ((b0 & 0xf0) === 0x40 && cap > 8) {
    const inner = buf.readUInt16BE(off + 2);
    if (inner + 4 <= len && (stream || len <= inner + 7)) {
      const s = payloadShape(buf, off + 4, cap - 4, inner);
      if (s !== SHAPE_ZOOM && s !== SHAPE_NONE) return s;
    }
  }
  // RTP and RTCP over a TCP stream: RFC 4571 framing, a 16-bit length before each packet
  if (stream && cap >= 14) {
    const inner = buf.readUInt16BE(off);
    if (inner >= 12 && inner + 2 <= len && isRtpVersion(buf[off + 2])) {
      const s = payloadShape(buf, off + 2, cap - 2, inner);
      if (s === SHAPE_RTP || s === SHAPE_RTCP) return s;
    }
  }
  if (isQuicLong(buf, off, cap)) return SHAPE_QUIC;
  if (isLine(buf, off, len)) return SHAPE_LINE;
  if (isWireguard(buf, off, cap, len)) return SHAPE_WIREGUARD;
  if (isImo(buf, off, cap, len)) return SHAPE_IMO;
  if (isOpenvpn(buf, off, len)) return SHAPE_OPENVPN;
  return SHAPE_NONE;
}

/**
 * Where the 12-byte RTP header of a payload starts — the payload itself, or inside TURN
 * ChannelData or a Send/Data indication — or -1: not RTP (RFC 5761: RTCP, or not version 2) or under 12 bytes captured.
 * No payload-type check: for the streams of a flow already picked as a call.
 */
export function rtpHeaderAt(buf: Buffer, off: number, cap: number): number {
  if ((buf[off] & 0xf0) === 0x40) {
    off += 4;
    cap -= 4;
  } else if (buf[off] < 2 && cap >= 24) {
    const d = indicationData(buf, off, cap);
    if (d >= 0) {
      cap -= d - off;
      off = d;
    }
  }
  if (cap < 12 || !isRtpVersion(buf[off])) return -1;
  const b1 = buf[off + 1];
  return b1 >= 192 && b1 <= 223 ? -1 : off;
}

/** SSRC of an RTP payload classified SHAPE_RTP (directly or relayed by TURN), or -1 if not captured. */
export function rtpSsrc(buf: Buffer, off: number, cap: number): number {
  const o = rtpHeaderAt(buf, off, cap);
  return o < 0 ? -1 : buf.readUInt32BE(o + 8);
}
