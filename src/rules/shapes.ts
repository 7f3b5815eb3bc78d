/**
 * Header shapes of real-time media, read from the first bytes of a UDP payload. Encryption
 * (SRTP, DTLS) leaves these headers in the clear, which is what makes calls recognisable.
 */

export const SHAPE_NONE = 0;
export const SHAPE_STUN = 1;
export const SHAPE_DTLS = 2;
export const SHAPE_RTP = 3;
export const SHAPE_RTCP = 4;
export const SHAPE_ZOOM = 5;

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
 * Classifies one payload. `cap` bytes of it were captured (snaplen), `len` is its length on the wire.
 * Returns a SHAPE_* code; for RTP, `rtpSsrc()` then reads the SSRC.
 */
export function payloadShape(buf: Buffer, off: number, cap: number, len: number): number {
  if (cap < 4) return SHAPE_NONE;
  const b0 = buf[off];
  const b1 = buf[off + 1];
  if (isRtpVersion(b0)) {
    // RFC 5761 demultiplexing: second byte 192–223 is RTCP, otherwise RTP with a payload type
    if (b1 >= 192 && b1 <= 223) return len >= 8 ? SHAPE_RTCP : SHAPE_NONE;
    const pt = b1 & 0x7f;
    if (len >= 12 && (pt <= 34 || pt >= 96)) return SHAPE_RTP;
    return SHAPE_NONE;
  }
  if ((b0 & 0xc0) === 0 && cap >= 8 && buf.readUInt32BE(off + 4) === STUN_COOKIE) {
    return buf.readUInt16BE(off + 2) + 20 === len ? SHAPE_STUN : SHAPE_NONE;
  }
  if (b0 >= 20 && b0 <= 23 && b1 === 0xfe && (buf[off + 2] === 0xff || buf[off + 2] === 0xfd)) return SHAPE_DTLS;
  if (b0 === 0x05 && cap >= 9 && zoomMediaHeaderLen(buf[off + 8]) > 0) return SHAPE_ZOOM;
  const zl = zoomMediaHeaderLen(b0);
  if (zl > 0 && cap > zl && isRtpVersion(buf[off + zl])) return SHAPE_ZOOM;
  // TURN ChannelData (channel 0x4000–0x4FFF, length, padded to 4): look at what it carries
  if ((b0 & 0xf0) === 0x40 && cap > 8) {
    const inner = buf.readUInt16BE(off + 2);
    if (inner + 4 <= len && len <= inner + 7) {
      const s = payloadShape(buf, off + 4, cap - 4, inner);
      return s === SHAPE_ZOOM ? SHAPE_NONE : s;
    }
  }
  return SHAPE_NONE;
}

/**
 * Where the 12-byte RTP header of a payload starts — the payload itself, or inside TURN
 * ChannelData — or -1: not RTP (RFC 5761: RTCP, or not version 2) or under 12 bytes captured.
 * No payload-type check: for the streams of a flow already picked as a call.
 */
export function rtpHeaderAt(buf: Buffer, off: number, cap: number): number {
  if ((buf[off] & 0xf0) === 0x40) {
    off += 4;
    cap -= 4;
  }
  if (cap < 12 || !isRtpVersion(buf[off])) return -1;
  const b1 = buf[off + 1];
  return b1 >= 192 && b1 <= 223 ? -1 : off;
}

/** SSRC of an RTP payload classified SHAPE_RTP (directly or inside TURN ChannelData), or -1 if not captured. */
export function rtpSsrc(buf: Buffer, off: number, cap: number): number {
  const o = rtpHeaderAt(buf, off, cap);
  return o < 0 ? -1 : buf.readUInt32BE(o + 8);
}
