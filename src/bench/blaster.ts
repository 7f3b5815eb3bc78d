/**
 * A packet generator at C speed for the live-capture bench: libpcap's pcap_sendpacket (through
 * cap's send) in a paced busy loop, Ethernet/IPv4/UDP frames over a few flows.
 *   node blaster.js IFACE COUNT PPS SRC DST
 * Prints the packets sent and the achieved rate.
 */
import { ipPacket, frameOf } from '../testkit/trace-writer';

function main(): void {
  const [iface, countText, ppsText, src, dst] = process.argv.slice(2);
  const count = Number(countText);
  const pps = Number(ppsText);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cap } = require('cap') as {
    Cap: new () => {
      open(d: string, f: string, b: number, buf: Buffer): string;
      send(b: Buffer, n?: number): void;
      close(): void;
    };
  };
  const cap = new Cap();
  cap.open(iface, 'udp and port 9', 1 << 20, Buffer.alloc(65535));
  const frames: Buffer[] = [];
  for (let f = 0; f < 8; f++) {
    const udp = Buffer.alloc(8 + 160, 0x5a);
    udp.writeUInt16BE(40000 + f, 0);
    udp.writeUInt16BE(50000 + f, 2);
    udp.writeUInt16BE(udp.length, 4);
    frames.push(frameOf(ipPacket({ src, dst, ts: 0 }, 17, udp), 1));
  }
  const t0 = process.hrtime.bigint();
  const nap = new Int32Array(new SharedArrayBuffer(4));
  let sent = 0;
  while (sent < count) {
    const due = (Number(process.hrtime.bigint() - t0) / 1e9) * pps;
    if (sent >= due) {
      // Ahead of schedule: sleep rather than spin, so the generator leaves the CPU to the capture.
      Atomics.wait(nap, 0, 0, 0.5);
      continue;
    }
    while (sent < due && sent < count) {
      const fr = frames[sent & 7];
      cap.send(fr, fr.length);
      sent++;
    }
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  cap.close();
  process.stdout.write(`${sent} ${Math.round(sent / s)}\n`);
}

if (require.main === module) main();
