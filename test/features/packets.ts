import { parseAddr } from '../../src/capture/addr';
import type { DecodedPacket } from '../../src/capture/types';
import type { FlowInfo, EndReason } from '../../src/flow/types';
import type { PipelineSink, WindowRecord } from '../../src/features/types';

/** A DecodedPacket filled by hand, for unit tests of the stages after decode. */
export function pkt(o: {
  src: string;
  dst: string;
  sport: number;
  dport: number;
  ts: number;
  /** IP length */
  len?: number;
  proto?: number;
  tcpFlags?: number;
  payload?: Buffer;
}): DecodedPacket {
  const s = parseAddr(o.src);
  const d = parseAddr(o.dst);
  if (!s || !d) throw new Error(`bad address in test packet ${o.src} ${o.dst}`);
  const proto = o.proto ?? 17;
  const hdr = (s.version === 4 ? 20 : 40) + (proto === 6 ? 20 : 8);
  const payload = o.payload ?? Buffer.alloc(0);
  const ipLen = o.len ?? hdr + payload.length;
  return {
    ts: o.ts,
    wireLen: ipLen + 14,
    ipLen,
    ipVersion: s.version,
    proto,
    src: s.words,
    des: d.words,
    srcPort: o.sport,
    desPort: o.dport,
    tcpFlags: o.tcpFlags ?? 0,
    fragment: false,
    buf: payload,
    payloadOff: 0,
    payloadCapLen: payload.length,
    payloadLen: Math.max(payload.length, ipLen - hdr),
  };
}

/** A sink that keeps everything it is given. */
export class CollectSink implements PipelineSink {
  readonly starts: FlowInfo[] = [];
  readonly windows: WindowRecord[] = [];
  readonly ends: Array<{ flow: FlowInfo; reason: EndReason }> = [];
  callStart(flow: FlowInfo): void {
    this.starts.push(flow);
  }
  window(w: WindowRecord): void {
    this.windows.push(w);
  }
  callEnd(flow: FlowInfo, reason: EndReason): void {
    this.ends.push({ flow, reason });
  }
}
