import {
  payloadShape,
  rtpSsrc,
  SHAPE_DTLS,
  SHAPE_IMO,
  SHAPE_LINE,
  SHAPE_OPENVPN,
  SHAPE_QUIC,
  SHAPE_RTCP,
  SHAPE_RTP,
  SHAPE_STUN,
  SHAPE_WA_STUN,
  SHAPE_WIREGUARD,
  SHAPE_ZOOM,
} from './shapes';

/** How many payload-carrying packets of a flow are looked at before the shape tests give their verdict. */
export const INSPECT_MAX = 64;
/**
 * A media flow carries a handful of SSRCs (audio, video, retransmission, FEC per direction;
 * Microsoft's RTP gives each video source a small range of them); random bytes carry many.
 */
const MAX_SSRCS = 24;
/** Telegram's reflectors prefix every datagram, both ways, with the call's 16-byte peer tag. */
const TAG_BYTES = 16;
const MIN_TAGGED_LEN = 32;

/**
 * What the first packets of a flow looked like: the evidence the shape= rule conditions read, and
 * the payload-shape counts the call classifier reads. Made once per flow slot and reused: add()
 * allocates nothing.
 */
export class ShapeCounts {
  inspected = 0;
  stun = 0;
  /** of `stun`: WhatsApp's relay message types */
  waStun = 0;
  dtls = 0;
  rtp = 0;
  rtcp = 0;
  zoom = 0;
  imo = 0;
  line = 0;
  quic = 0;
  wireguard = 0;
  openvpn = 0;
  /** datagrams of ≥ 32 bytes starting with the flow's first 16 bytes (Telegram's peer tag) */
  tagged = 0;
  /** Viber's relay header: the flow's 2-byte session, then a small little-endian message type */
  viber = 0;
  /** packets whose first 4 bytes equal those of the first packet in the same direction (tunnel and session headers) */
  sameHead = 0;
  /** distinct first bytes seen: media headers use a few, encrypted datagrams all of them */
  firstBytes = 0;
  ssrcOverflow = false;
  private readonly ssrcs: number[] = [];
  private readonly head = Buffer.alloc(TAG_BYTES);
  private headLen = 0;
  /** first 4 bytes of the first packet out (index 0) and in (1); -1 before it */
  private readonly dirHead = new Float64Array(2);
  private readonly seenFirst = new Uint32Array(8);

  constructor() {
    this.reset();
  }

  reset(): void {
    this.inspected = this.stun = this.waStun = this.dtls = this.rtp = this.rtcp = this.zoom = 0;
    this.imo = this.line = this.quic = this.wireguard = this.openvpn = this.tagged = this.viber = 0;
    this.sameHead = this.firstBytes = this.headLen = 0;
    this.ssrcOverflow = false;
    this.ssrcs.length = 0;
    this.dirHead[0] = this.dirHead[1] = -1;
    this.seenFirst.fill(0);
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
    const b0 = buf[off];
    const word = b0 >> 5;
    const bit = 1 << (b0 & 31);
    if ((this.seenFirst[word] & bit) === 0) {
      this.seenFirst[word] |= bit;
      this.firstBytes++;
    }
    if (cap >= 4) {
      const h = buf.readUInt32BE(off);
      const d = out ? 0 : 1;
      if (this.dirHead[d] < 0) this.dirHead[d] = h;
      else if (this.dirHead[d] === h) this.sameHead++;
    }
    if (this.headLen === 0) {
      this.headLen = Math.min(cap, TAG_BYTES);
      buf.copy(this.head, 0, off, off + this.headLen);
      if (this.headLen === TAG_BYTES && len >= MIN_TAGGED_LEN) this.tagged++;
      return;
    }
    if (this.headLen === TAG_BYTES && len >= MIN_TAGGED_LEN && cap >= TAG_BYTES && buf.compare(this.head, 0, TAG_BYTES, off, off + TAG_BYTES) === 0) {
      this.tagged++;
    }
    // Viber (nDPI's viber.c keys on bytes 2-3 as a small type with a zero high byte; the session in
    // bytes 0-1 stays the same for the flow in nDPI's viber capture)
    if (cap >= 4 && buf[off + 3] === 0 && buf[off + 2] < 0x20 && b0 === this.head[0] && buf[off + 1] === this.head[1]) this.viber++;
  }
}
