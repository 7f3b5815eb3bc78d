/**
 * Whether one side of a call is sending video at all: a camera that is switched off sends no
 * frames, and no model should then say who sits in front of it. Each call has two of these, one
 * per direction: what the local side sends and what it receives.
 *
 * SRTP leaves the RTP header clear, and every video payload format runs a 90 kHz RTP clock (RFC
 * 3551 and the VP8/VP9/H264/AV1 formats), while audio runs at 48 kHz (Opus) or less (G.711, G.722).
 * So each outgoing stream (SSRC) is timed over its first second: the rate at which its RTP
 * timestamp advances against the packets' own time tells video from audio. Zoom's own
 * encapsulation names the media type outright (15 audio, 16 video).
 */

import { rtpHeaderAt } from '../rules/shapes';
import type { Sending } from './types';

/** audio, three simulcast layers, their retransmission streams, FEC: a call sends fewer */
const MAX_STREAMS = 16;
const SSRC = 0;
const FIRST_TS = 1;
const FIRST_RTP = 2;
const PACKETS = 3;
const KIND = 4;
const FIELDS = 5;

const UNDECIDED = 0;
const VIDEO = 1;
const OTHER = 2;

/** A stream is timed over at least this long, and this many packets, before it is called video or not. */
const DECIDE_AFTER_S = 1;
const DECIDE_AFTER_PACKETS = 10;
const VIDEO_MIN_HZ = 70_000;
const VIDEO_MAX_HZ = 120_000;

/**
 * Seconds without a video packet after which the camera counts as off. An encoder that skips
 * frames, or a path that stalls, pauses for well under this (the lab calls: never).
 */
export const CAMERA_OFF_AFTER_S = 2;

const ZOOM_AUDIO = 15;
const ZOOM_VIDEO = 16;
const ZOOM_RTCP_FIRST = 33;
const ZOOM_RTCP_LAST = 35;

const STUN_COOKIE = 0x2112a442;

/**
 * A payload that carries no frame and no sound whatever the stream: RTCP (RFC 5761 range), STUN,
 * DTLS. Anything else that is not RTP might be media in a form we cannot read.
 */
function isControl(buf: Buffer, off: number, cap: number): boolean {
  if (cap >= 4 && (buf[off] & 0xf0) === 0x40) {
    off += 4;
    cap -= 4;
  }
  if (cap < 2) return false;
  const b0 = buf[off];
  const b1 = buf[off + 1];
  if ((b0 & 0xc0) === 0x80) return b1 >= 192 && b1 <= 223;
  if (b0 >= 20 && b0 <= 23 && b1 === 0xfe) return true;
  return (b0 & 0xc0) === 0 && cap >= 8 && u32(buf, off + 4) === STUN_COOKIE;
}

/** One direction of a call: its media streams, fed every payload that goes that way. */
export class SentVideo {
  private readonly streams = new Float64Array(MAX_STREAMS * FIELDS);
  private n = 0;
  /** where the last packet's stream is in `streams`: most packets continue the same stream */
  private last = 0;
  private zoom = false;
  /** more streams than a call has, or headers that do not time like media: say nothing */
  private unreadable = false;
  private lastVideoTs = -Infinity;
  /** latest packet of a stream not timed yet: it may be a camera being switched on */
  private lastUndecidedTs = -Infinity;
  /** when a stream was first known to be audio: from then on, no video means none is sent */
  private readableSince = Infinity;
  /** the latest packet that may carry media: audio, or a payload we cannot read */
  private lastMediaTs = -Infinity;
  /** when the call started: a direction is judged after it had time to send */
  private startTs = Infinity;

  /** Ready for a new call that started at `startTs`. */
  reset(zoom: boolean, startTs: number): void {
    this.n = 0;
    this.last = 0;
    this.zoom = zoom;
    this.unreadable = false;
    this.lastVideoTs = this.lastUndecidedTs = this.lastMediaTs = -Infinity;
    this.readableSince = Infinity;
    this.startTs = startTs;
  }

  /** A UDP payload of this direction: `cap` of its bytes captured from buf[off]. */
  add(ts: number, buf: Buffer, off: number, cap: number): void {
    if (this.unreadable) return;
    if (cap < 12) {
      if (!isControl(buf, off, cap)) this.lastMediaTs = ts;
      return;
    }
    const b0 = buf[off];
    if (this.zoom) {
      const type = b0 === 0x05 ? buf[off + 8] : b0;
      if (type === ZOOM_VIDEO) this.lastVideoTs = ts;
      else if (type < ZOOM_RTCP_FIRST || type > ZOOM_RTCP_LAST) {
        this.lastMediaTs = ts;
        if (type === ZOOM_AUDIO && this.readableSince === Infinity) this.readableSince = ts;
      }
      return;
    }
    const o = rtpHeaderAt(buf, off, cap);
    if (o < 0) {
      if (!isControl(buf, off, cap)) this.lastMediaTs = ts;
      return;
    }
    // padding-only packets (bandwidth probes, sent on a video retransmission stream even while
    // the camera is off: the padding bit) carry no frame
    if ((buf[o] & 0x20) !== 0) return;
    const ssrc = u32(buf, o + 8);
    const s = this.streams;
    let at = this.last;
    if (s[at + SSRC] !== ssrc || at >= this.n * FIELDS) {
      at = 0;
      while (at < this.n * FIELDS && s[at + SSRC] !== ssrc) at += FIELDS;
      this.last = at;
    }
    if (at === this.n * FIELDS) {
      if (this.n === MAX_STREAMS) {
        this.unreadable = true;
        return;
      }
      this.n++;
      s[at + SSRC] = ssrc;
      s[at + FIRST_TS] = ts;
      s[at + FIRST_RTP] = u32(buf, o + 4);
      s[at + PACKETS] = 0;
      s[at + KIND] = UNDECIDED;
    }
    s[at + PACKETS]++;
    let kind = s[at + KIND];
    if (kind === UNDECIDED) {
      const span = ts - s[at + FIRST_TS];
      if (span < DECIDE_AFTER_S || s[at + PACKETS] < DECIDE_AFTER_PACKETS) {
        this.lastUndecidedTs = ts;
        return;
      }
      // unsigned 32-bit difference: RTP timestamps wrap
      const hz = ((u32(buf, o + 4) - s[at + FIRST_RTP]) >>> 0) / span;
      kind = s[at + KIND] = hz >= VIDEO_MIN_HZ && hz <= VIDEO_MAX_HZ ? VIDEO : OTHER;
      if (kind === OTHER && this.readableSince === Infinity) this.readableSince = ts;
    }
    if (kind === VIDEO) this.lastVideoTs = ts;
    else this.lastMediaTs = ts;
  }

  /** At time `now`: is the sender known to send no video (camera off, or never on)? */
  cameraOff(now: number): boolean {
    if (this.unreadable || now - this.readableSince < CAMERA_OFF_AFTER_S) return false;
    return now - Math.max(this.lastVideoTs, this.lastUndecidedTs) >= CAMERA_OFF_AFTER_S;
  }

  /**
   * At time `now`, what this direction's packets say of its camera: 'no video' (no media at all:
   * only RTCP, STUN, DTLS, or nothing, for the last CAMERA_OFF_AFTER_S seconds of a call at least
   * that old), 'camera-off' (sound but no video), else 'video' (or unreadable: a model decides).
   */
  sending(now: number): Sending {
    if (this.unreadable || now - Math.max(this.startTs, this.lastVideoTs, this.lastUndecidedTs) < CAMERA_OFF_AFTER_S)
      return 'video';
    if (now - this.lastMediaTs >= CAMERA_OFF_AFTER_S) return 'no video';
    return this.cameraOff(now) ? 'camera-off' : 'video';
  }
}

/** Big-endian 32 bits, unsigned; the caller has checked the length (Buffer.readUInt32BE checks again, per packet). */
function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
}
