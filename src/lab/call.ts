/**
 * Sets up one WebRTC call between two lab browsers (page.html): offer/answer relayed by this
 * process, both directions sending video and audio with the chosen codec, optional bitrate cap.
 */
import type { Browser } from './browser';
import { spawnRelay, type LinkModel } from './relay';

export type Codec = 'VP8' | 'VP9' | 'H264';

export interface CallEnd {
  browser: Browser;
  /** The only address this end may use for ICE (its candidates are filtered to it). */
  ip: string;
}

export interface CallSetup {
  id: string;
  codec: Codec;
  /** Video sender cap in kbit/s for both directions; 0 = none. */
  maxKbps: number;
  caller: CallEnd;
  callee: CallEnd;
  /** Delay/loss by a relay in the callee's namespace (relay.ts), when the kernel cannot impair the link. */
  relay?: { netns: string; model: LinkModel; seed: number };
}

export interface CallDescription {
  local?: { ip: string; port: number; protocol: string };
  remote?: { ip: string; port: number; protocol: string };
  outbound: Array<Record<string, unknown>>;
  inbound: Array<Record<string, unknown>>;
}

export interface VideoFormat {
  width: number;
  height: number;
  fps: number;
}

export async function initPeer(b: Browser, video: VideoFormat): Promise<Record<string, number>> {
  return b.evaluate(`lab.init(${JSON.stringify(video)})`);
}

export async function connect(c: CallSetup): Promise<void> {
  const id = JSON.stringify(c.id);
  const callerOpts = JSON.stringify({ codec: c.codec, ip: c.caller.ip });
  const calleeOpts = JSON.stringify({ codec: c.codec, ip: c.callee.ip });
  let offer = await c.caller.browser.evaluate<string>(`lab.offer(${id}, ${callerOpts})`);
  const relay = c.relay && (await spawnRelay(c.relay.netns, c.callee.ip, c.relay.model, c.relay.seed));
  // Each peer is shown the other at the relay, on the callee's address: media can take no other path.
  if (relay) offer = viaRelay(offer, c.callee.ip, relay.portB);
  let answer = await c.callee.browser.evaluate<string>(`lab.answer(${id}, ${calleeOpts}, ${JSON.stringify(offer)})`);
  if (relay) answer = viaRelay(answer, c.callee.ip, relay.portA);
  await c.caller.browser.evaluate(`lab.accept(${id}, ${JSON.stringify(answer)})`);
  for (const end of [c.caller, c.callee]) await end.browser.evaluate(`lab.connected(${id}, 20000)`);
  for (const end of [c.caller, c.callee]) await end.browser.evaluate(`lab.capBitrate(${id}, ${c.maxKbps * 1000})`);
}

/**
 * The SDP with every UDP host candidate moved to ip:port, and TCP candidates dropped (ICE could
 * otherwise pair them directly, past the relay). Fields: foundation component transport priority
 * address port `typ` type ...
 */
export function viaRelay(sdp: string, ip: string, port: number): string {
  return sdp
    .split('\r\n')
    .flatMap((l) => {
      if (!l.startsWith('a=candidate:')) return [l];
      const f = l.split(' ');
      if (f[2].toLowerCase() !== 'udp') return [];
      f[4] = ip;
      f[5] = String(port);
      return [f.join(' ')];
    })
    .join('\r\n');
}

export async function describe(b: Browser, id: string): Promise<CallDescription> {
  return b.evaluate(`lab.describe(${JSON.stringify(id)})`);
}
