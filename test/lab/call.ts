/**
 * Sets up one WebRTC call between two lab browsers (page.html): offer/answer relayed by this
 * process, both directions sending video and audio with the chosen codec, optional bitrate cap.
 */
import type { Browser } from './browser';

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
  const offer = await c.caller.browser.evaluate<string>(`lab.offer(${id}, ${callerOpts})`);
  const answer = await c.callee.browser.evaluate<string>(`lab.answer(${id}, ${calleeOpts}, ${JSON.stringify(offer)})`);
  await c.caller.browser.evaluate(`lab.accept(${id}, ${JSON.stringify(answer)})`);
  for (const end of [c.caller, c.callee]) await end.browser.evaluate(`lab.connected(${id}, 20000)`);
  for (const end of [c.caller, c.callee]) await end.browser.evaluate(`lab.capBitrate(${id}, ${c.maxKbps * 1000})`);
}

export async function describe(b: Browser, id: string): Promise<CallDescription> {
  return b.evaluate(`lab.describe(${JSON.stringify(id)})`);
}
