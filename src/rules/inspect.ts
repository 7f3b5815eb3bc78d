import { payloadShape, rtpSsrc, SHAPE_DTLS, SHAPE_RTCP, SHAPE_RTP, SHAPE_STUN, SHAPE_ZOOM } from './shapes';

/** How many payload-carrying packets of a flow are looked at before the shape tests give their verdict. */
export const INSPECT_MAX = 64;
/** A media flow carries a handful of SSRCs (audio, video, retransmission, per direction); random bytes carry many. */
const MAX_SSRCS = 16;

/** What the first packets of a flow looked like: the evidence the shape= rule conditions read. */
export class ShapeCounts {
  inspected = 0;
  stun = 0;
  dtls = 0;
  rtp = 0;
  rtcp = 0;
  zoom = 0;
  ssrcOverflow = false;
  private readonly ssrcs: number[] = [];

  reset(): void {
    this.inspected = this.stun = this.dtls = this.rtp = this.rtcp = this.zoom = 0;
    this.ssrcOverflow = false;
    this.ssrcs.length = 0;
  }

  get done(): boolean {
    return this.inspected >= INSPECT_MAX;
  }

  add(buf: Buffer, off: number, cap: number, len: number): void {
    if (len === 0 || this.inspected >= INSPECT_MAX) return;
    this.inspected++;
    switch (payloadShape(buf, off, cap, len)) {
      case SHAPE_STUN: this.stun++; break;
      case SHAPE_DTLS: this.dtls++; break;
      case SHAPE_RTCP: this.rtcp++; break;
      case SHAPE_ZOOM: this.zoom++; break;
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
}
