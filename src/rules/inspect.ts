import {
  payloadShape,
  rtpSsrc,
  SHAPE_DTLS,
  SHAPE_IMO,
  SHAPE_LINE,
  SHAPE_MS_STUN,
  SHAPE_OPENVPN,
  SHAPE_QUIC,
  SHAPE_RTCP,
  SHAPE_RTP,
  SHAPE_STUN,
  SHAPE_WA_STUN,
  SHAPE_WIREGUARD,
  SHAPE_ZOOM,
} from './shapes';
import { Slab } from '../util/slab';

/** How many payload-carrying packets of a flow are looked at before the shape tests give their verdict. */
export const INSPECT_MAX = 64;
/**
 * A media flow carries a handful of SSRCs (audio, video, retransmission, FEC per direction;
 * Microsoft's RTP gives each video source a small range of them); random bytes carry many.
 */
const MAX_SSRCS = 24;
/**
 * Telegram's reflectors prefix every datagram, both ways, with the call's 16-byte peer tag. The
 * first 12 bytes of it are compared: a client that varies the tag's tail is still recognised, and
 * 96 fixed bits are as unmistakable.
 */
const TAG_WORDS = 3;
const MIN_TAGGED_LEN = 32;
const HEAD = 0;
const SEEN = HEAD + TAG_WORDS;
const DIR_HEAD = SEEN + 8;
/** slab slot size of a flow's compared words (see ShapeCounts.at) */
export const SHAPE_WORDS = DIR_HEAD + 2;

/**
 * What the first packets of a flow looked like: the evidence the shape= rule conditions read, and
 * the payload-shape counts the call classifier reads. Made once per flow slot and reused: add()
 * allocates nothing. The words compared with the flow's first packets are kept in a slab shared by
 * the flows (the pipeline's; by default one of its own): a slot from reset() to release().
 */
export class ShapeCounts {
  inspected = 0;
  stun = 0;
  /** of `stun`: WhatsApp's relay message types */
  waStun = 0;
  /** of `stun`: RFC 3489 messages without the magic cookie (Microsoft's Teams/Skype stack) */
  msStun = 0;
  dtls = 0;
  rtp = 0;
  rtcp = 0;
  zoom = 0;
  imo = 0;
  line = 0;
  quic = 0;
  wireguard = 0;
  openvpn = 0;
  /** datagrams of ≥ 32 bytes starting with the flow's first 12 bytes (Telegram's peer tag) */
  tagged = 0;
  /** Viber's relay header: the flow's 2-byte session, then a small little-endian message type */
  viber = 0;
  /** distinct Viber message types among them (a bit per type below 0x20) */
  viberTypes = 0;
  /** packets whose first 4 bytes equal those of the first packet in the same direction (tunnel and session headers) */
  sameHead = 0;
  /** distinct first bytes seen: media headers use a few, encrypted datagrams all of them */
  firstBytes = 0;
  ssrcOverflow = false;
  private readonly ssrcs: number[] = [];
  /**
   * Offset in the slab of what is compared with the flow's first packets (-1: released):
   * [HEAD, HEAD+3) the first payload's first 12 bytes as big-endian words (Telegram's peer tag),
   * [SEEN, SEEN+8) a bitmap of first bytes seen, [DIR_HEAD, DIR_HEAD+2) the first 4 bytes of the
   * first payload out and in.
   */
  private at = -1;
  /** how many of the head words were captured (0: no payload yet) */
  private headWords = 0;
  /** bit 0: the out direction's first 4 bytes are kept, bit 1: the in direction's */
  private dirSet = 0;

  constructor(private readonly words: Slab = new Slab(SHAPE_WORDS, 1)) {
    this.reset();
  }

  /** Made like new, for a flow to inspect. */
  reset(): void {
    this.inspected = this.stun = this.waStun = this.msStun = this.dtls = this.rtp = this.rtcp = this.zoom = 0;
    this.imo = this.line = this.quic = this.wireguard = this.openvpn = this.tagged = this.viber = this.viberTypes = 0;
    this.sameHead = this.firstBytes = this.headWords = this.dirSet = 0;
    this.ssrcOverflow = false;
    this.ssrcs.length = 0;
    if (this.at < 0) this.at = this.words.take();
    this.words.data.fill(0, this.at, this.at + SHAPE_WORDS);
  }

  /** Gives the slab slot back: the counts stay readable, add() needs a reset() first. */
  release(): void {
    if (this.at >= 0) this.words.free(this.at);
    this.at = -1;
  }

  get done(): boolean {
    return this.inspected >= INSPECT_MAX;
  }

  /** One payload of the flow: `cap` bytes captured of `len`; `out` its direction; `stream` for TCP. */
  add(buf: Buffer, off: number, cap: number, len: number, out = true, stream = false): void {
    if (len === 0 || this.inspected >= INSPECT_MAX) return;
    this.inspected++;
    this.flowShapes(buf, off, cap, len, out);
    switch (payloadShape(buf, off, cap, len, stream)) {
      case SHAPE_STUN: this.stun++; break;
      case SHAPE_MS_STUN: this.stun++; this.msStun++; break;
      case SHAPE_WA_STUN: this.stun++; this.waStun++; break;
      case SHAPE_DTLS: this.dtls++; break;
      case SHAPE_RTCP: this.rtcp++; break;
      case SHAPE_ZOOM: this.zoom++; break;
      case SHAPE_IMO: this.imo++; break;
      case SHAPE_LINE: this.line++; break;
      case SHAPE_QUIC: this.quic++; break;
      case SHAPE_WIREGUARD: this.wireguard++; break;
      case SHAPE_OPENVPN: this.openvpn++; break;
      case SHAPE_RTP: {
        this.rtp++;
        const ssrc = rtpSsrc(buf, off, cap);
        if (ssrc >= 0 && !this.ssrcs.includes(ssrc)) {
          if (this.ssrcs.length >= MAX_SSRCS) this.ssrcOverflow = true;
          else this.ssrcs.push(ssrc);
        }
        break;
      }
    }
  }

  /** Shapes that compare a packet with the flow's first ones. */
  private flowShapes(buf: Buffer, off: number, cap: number, len: number, out: boolean): void {
    // the slab's words hold uint32 values exactly; the bitmap's may read back as negative int32s,
    // which `&` treats alike
    const w = this.words.data;
    const o = this.at;
    const b0 = buf[off];
    const bit = 1 << (b0 & 31);
    if ((w[o + SEEN + (b0 >> 5)] & bit) === 0) {
      w[o + SEEN + (b0 >> 5)] |= bit;
      this.firstBytes++;
    }
    if (cap < 4) return;
    const h = buf.readUInt32BE(off);
    const d = out ? 1 : 2;
    if ((this.dirSet & d) === 0) {
      this.dirSet |= d;
      w[o + DIR_HEAD + d - 1] = h;
    } else if (w[o + DIR_HEAD + d - 1] === h) this.sameHead++;
    if (this.headWords === 0) {
      const n = Math.min(cap >> 2, TAG_WORDS);
      for (let i = 0; i < n; i++) w[o + HEAD + i] = buf.readUInt32BE(off + 4 * i);
      this.headWords = n;
      if (n === TAG_WORDS && len >= MIN_TAGGED_LEN) this.tagged++;
      return;
    }
    if (this.headWords === TAG_WORDS && len >= MIN_TAGGED_LEN && cap >= 4 * TAG_WORDS && h === w[o + HEAD]) {
      let same = true;
      for (let i = 1; i < TAG_WORDS && same; i++) same = buf.readUInt32BE(off + 4 * i) === w[o + HEAD + i];
      if (same) this.tagged++;
    }
    // Viber (nDPI's viber.c keys on bytes 2-3 as a small type with a zero high byte; the session in
    // bytes 0-1 stays the same for the flow in nDPI's viber capture)
    if (buf[off + 3] === 0 && buf[off + 2] < 0x20 && h >>> 16 === w[o + HEAD] >>> 16) {
      this.viber++;
      this.viberTypes |= 1 << buf[off + 2];
    }
  }
}
