import { newRawPacket } from '../capture/decode';
import { openTrace } from '../capture/reader';
import { rtpHeaderAt } from '../rules/shapes';
import { writePcapng, type TracePacket } from './trace-writer';

/** The two ends of the rewritten call: both on 127.0.0.1, told apart by their ports. */
export interface SameAddressCall {
  /** the caller: sends its camera's video (and sound) */
  callerPort: number;
  /** the callee: sends RTCP, STUN and DTLS only, no media; it sends the call's first packet */
  calleePort: number;
}

const LOOPBACK = [127, 0, 0, 1];
const ETHERTYPE_IPV4 = 0x0800;

/**
 * A recorded lab call (Ethernet, IPv4, UDP) turned into one whose peers share an address, as two
 * apps on one host: both addresses become 127.0.0.1; the callee (`calleeIp`) keeps only what carries
 * no media (RTCP, STUN, DTLS) and starts the call (the caller's packets before its first are left
 * out), so that by address and initiator alone the monitor would take the callee as the local side.
 */
export async function sameAddressCall(
  trace: string,
  callerIp: string,
  calleeIp: string,
  out: string,
): Promise<SameAddressCall> {
  const caller = callerIp.split('.').map(Number);
  const callee = calleeIp.split('.').map(Number);
  const src = await openTrace(trace);
  const raw = newRawPacket();
  const kept: TracePacket[] = [];
  const ports = { callerPort: 0, calleePort: 0 };
  let started = false;
  try {
    do {
      while (src.next(raw)) {
        const f = Buffer.from(raw.buf.subarray(raw.off, raw.off + raw.capLen));
        if (f.length < 42 || f.readUInt16BE(12) !== ETHERTYPE_IPV4 || f[23] !== 17) continue;
        const ip = 14;
        const udp = ip + (f[ip] & 0x0f) * 4;
        const from = [...f.subarray(ip + 12, ip + 16)];
        const fromCallee = from.every((b, i) => b === callee[i]);
        const fromCaller = from.every((b, i) => b === caller[i]);
        if (!fromCallee && !fromCaller) continue;
        const payload = udp + 8;
        if (fromCallee && rtpHeaderAt(f, payload, f.length - payload) >= 0) continue;
        if (!started && !fromCallee) continue;
        started = true;
        if (fromCallee) ports.calleePort = f.readUInt16BE(udp);
        else ports.callerPort = f.readUInt16BE(udp);
        f.set(LOOPBACK, ip + 12);
        f.set(LOOPBACK, ip + 16);
        kept.push({ ts: raw.ts, frame: f, origLen: raw.wireLen });
      }
    } while (await src.more());
  } finally {
    src.close();
  }
  writePcapng(out, kept);
  return ports;
}
