/**
 * The packet generator of the live-capture bench and tests (blaster.c): built with the system's C
 * compiler into a directory of the caller's, fed Ethernet/IPv4/UDP frames over 8 flows made here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../rules/paths';
import { frameOf, ipPacket } from './trace-writer';

export type Blaster = (iface: string, count: number, pps: number) => string[];

/** The command line that sends COUNT frames at PPS on IFACE (run it in the sending namespace), or why it cannot run. */
export function buildBlaster(dir: string, src: string, dst: string): Blaster | string {
  const bin = path.join(dir, 'blaster');
  const c = path.join(projectRoot(), 'src/testkit/blaster.c');
  const cc = spawnSync('cc', ['-O2', '-o', bin, c], { encoding: 'utf8' });
  if (cc.error || cc.status !== 0)
    return `cannot build the packet generator with cc: ${cc.error?.message ?? cc.stderr.trim()}`;
  const frames = path.join(dir, 'blaster.frames');
  const parts: Buffer[] = [];
  for (let f = 0; f < 8; f++) {
    const udp = Buffer.alloc(8 + 160, 0x5a);
    udp.writeUInt16BE(40000 + f, 0);
    udp.writeUInt16BE(50000 + f, 2);
    udp.writeUInt16BE(udp.length, 4);
    const frame = frameOf(ipPacket({ src, dst, ts: 0 }, 17, udp), 1);
    const len = Buffer.alloc(2);
    len.writeUInt16BE(frame.length);
    parts.push(len, frame);
  }
  fs.writeFileSync(frames, Buffer.concat(parts));
  return (iface, count, pps) => [bin, iface, String(count), String(pps), frames];
}
