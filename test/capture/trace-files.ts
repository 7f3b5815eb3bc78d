/** Shared by the capture tests: a temp directory, a seeded PRNG, tshark, and reading a whole trace through openTrace + decodePacket. */
import { mulberry32 } from '../../src/util/rng';
import { execFileSync } from 'child_process';
import { formatAddr } from '../../src/capture/addr';
import { decodePacket, newDecodedPacket, newRawPacket } from '../../src/capture/decode';
import { openTrace } from '../../src/capture/reader';

export { tempDir } from '../../src/testkit/temp';

export interface ReadPacket {
  ts: number;
  linkType: number;
  capLen: number;
  wireLen: number;
  /** copy of the captured bytes */
  frame: Buffer;
}

/** Every packet of a trace (copied out of the reader's buffer), and its warnings. */
export async function readAll(file: string): Promise<{ packets: ReadPacket[]; warnings: string[] }> {
  const src = await openTrace(file);
  const raw = newRawPacket();
  const packets: ReadPacket[] = [];
  try {
    do {
      while (src.next(raw)) {
        packets.push({
          ts: raw.ts,
          linkType: raw.linkType,
          capLen: raw.capLen,
          wireLen: raw.wireLen,
          frame: Buffer.from(raw.buf.subarray(raw.off, raw.off + raw.capLen)),
        });
      }
    } while (await src.more());
  } finally {
    src.close();
  }
  return { packets, warnings: [...src.warnings] };
}

export interface FlowCount {
  packets: number;
  bytes: number;
}

/**
 * Per-conversation packet and wire-byte counts for one transport, keyed as tshark prints its
 * conversations: "addrA:portA <-> addrB:portB" with the endpoints in sorted order.
 */
export async function countFlows(file: string, proto: 6 | 17): Promise<Map<string, FlowCount>> {
  const src = await openTrace(file);
  const raw = newRawPacket();
  const d = newDecodedPacket();
  const flows = new Map<string, FlowCount>();
  do {
    while (src.next(raw)) {
      if (!decodePacket(raw, d) || d.proto !== proto || d.fragment) continue;
      const a = `${formatAddr(d.src, d.ipVersion)}:${d.srcPort}`;
      const b = `${formatAddr(d.des, d.ipVersion)}:${d.desPort}`;
      const key = a < b ? `${a} <-> ${b}` : `${b} <-> ${a}`;
      const f = flows.get(key) ?? { packets: 0, bytes: 0 };
      f.packets++;
      f.bytes += d.wireLen;
      flows.set(key, f);
    }
  } while (await src.more());
  src.close();
  return flows;
}

/** Seeded so a failure can be replayed. */
export const prng = mulberry32;

/** Runs tshark without name resolution; its stdout. */
export function tshark(args: string[]): string {
  return execFileSync('tshark', ['-n', ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
    maxBuffer: 64 << 20,
  });
}
