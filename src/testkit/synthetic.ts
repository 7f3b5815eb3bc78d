import { udpPacket, type TracePacket } from './trace-writer';

/** Media payloads as WebRTC puts them on the wire (headers in the clear, the rest opaque). */

export function rtpPayload(pt: number, seq: number, rtpTs: number, ssrc: number, len: number): Buffer {
  const b = Buffer.alloc(Math.max(12, len), 0xa7);
  b[0] = 0x80;
  b[1] = pt & 0x7f;
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE(rtpTs >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  return b;
}

export function rtcpPayload(len = 60): Buffer {
  const b = Buffer.alloc(len, 0x33);
  b[0] = 0x81;
  b[1] = 200;
  b.writeUInt16BE(len / 4 - 1, 2);
  return b;
}

/** A STUN Binding Request with `attrLen` bytes of attributes. */
export function stunPayload(attrLen = 0): Buffer {
  const b = Buffer.alloc(20 + attrLen, 0x11);
  b.writeUInt16BE(0x0001, 0);
  b.writeUInt16BE(attrLen, 2);
  b.writeUInt32BE(0x2112a442, 4);
  return b;
}

export function dtlsPayload(contentType = 22, len = 120): Buffer {
  const b = Buffer.alloc(len, 0x44);
  b[0] = contentType;
  b[1] = 0xfe;
  b[2] = 0xfd;
  b.writeUInt16BE(len - 13, 11);
  return b;
}

export interface CallSpec {
  a: string;
  b: string;
  aPort: number;
  bPort: number;
  start: number;
  seconds: number;
  /** per second: true when a person is on camera (bigger, more variable frames) */
  person?: (t: number) => boolean;
  /** per second: true when a's camera is off (a sends no video frames, audio goes on) */
  cameraOff?: (t: number) => boolean;
  vlan?: number[];
}

/**
 * A WebRTC-like call between a and b: STUN checks, a DTLS handshake, then in each direction
 * 30 video frames/s (a burst of packets per frame) and 50 audio packets/s, with RTCP.
 */
export function syntheticCall(c: CallSpec): TracePacket[] {
  const out: TracePacket[] = [];
  const send = (fromA: boolean, ts: number, payload: Buffer) =>
    out.push(
      udpPacket({
        src: fromA ? c.a : c.b,
        dst: fromA ? c.b : c.a,
        sport: fromA ? c.aPort : c.bPort,
        dport: fromA ? c.bPort : c.aPort,
        ts,
        payload,
        vlan: c.vlan,
      }),
    );
  const t = c.start;
  send(true, t, stunPayload(8));
  send(false, t + 0.001, stunPayload(12));
  send(true, t + 0.01, dtlsPayload(22, 200));
  send(false, t + 0.02, dtlsPayload(22, 900));
  send(true, t + 0.03, dtlsPayload(20, 14));
  let seq = 0;
  const end = c.start + c.seconds;
  for (const fromA of [true, false]) {
    const vssrc = fromA ? 0x1111 : 0x2222;
    const assrc = fromA ? 0x3333 : 0x4444;
    for (let f = 0; c.start + 0.05 + f / 30 < end; f++) {
      const ft = c.start + 0.05 + f / 30 + (fromA ? 0 : 0.004);
      if (fromA && c.cameraOff?.(ft - c.start)) continue;
      const person = c.person ? c.person(ft - c.start) : true;
      const frameBytes = person ? 2500 + ((f * 7919) % 3000) : 600 + ((f * 31) % 60);
      for (let off = 0, i = 0; off < frameBytes; off += 1100, i++) {
        send(fromA, ft + i * 0.0005, rtpPayload(96, seq++, f * 3000, vssrc, Math.min(1100, frameBytes - off)));
      }
    }
    for (let k = 0; c.start + 0.05 + k * 0.02 < end; k++) {
      send(fromA, c.start + 0.05 + k * 0.02 + 0.0101, rtpPayload(111, seq++, k * 960, assrc, 90));
    }
    for (let k = 0; c.start + 0.5 + k < end; k++) send(fromA, c.start + 0.5 + k + 0.0003, rtcpPayload());
  }
  return out.sort((x, y) => x.ts - y.ts);
}
