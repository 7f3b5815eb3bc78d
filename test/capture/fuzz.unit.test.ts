import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { decodePacket, newDecodedPacket, newRawPacket } from '../../src/capture/decode';
import { openTrace } from '../../src/capture/reader';
import { UserError } from '../../src/util/errors';
import {
  fragment,
  ipv6Ext,
  pcapBytes,
  pcapngBlock,
  pcapngBytes,
  tcpPacket,
  TracePacket,
  udpPacket,
} from '../../src/testkit/trace-writer';
import { tempDir } from '../../src/testkit/temp';
import { mutateBytes, rng } from '../../src/testkit/mutate';

function packets(): TracePacket[] {
  const out: TracePacket[] = [];
  for (let i = 0; i < 24; i++) {
    const v6 = i % 3 === 0;
    const o = {
      src: v6 ? '2001:db8::1' : '10.0.0.1',
      dst: v6 ? '2001:db8::2' : '10.0.0.2',
      sport: 5000 + i,
      dport: 3478,
      payloadLen: 40 * i,
      ts: 1700000000 + i / 10,
      vlan: i % 4 === 0 ? [9] : undefined,
      ipv6Ext: v6 && i % 2 ? [ipv6Ext(0)] : undefined,
    };
    out.push(i % 5 === 0 ? tcpPacket(o) : udpPacket(o));
  }
  out.push(
    ...fragment(
      udpPacket({ src: '10.0.0.3', dst: '10.0.0.4', sport: 1, dport: 2, payloadLen: 2000, ts: 1700000003 }),
      800,
    ),
  );
  return out;
}

test(
  '300 random mutations of valid pcap, pcapng and gzip traces: only UserErrors escape, reading always ends',
  { timeout: 120000 },
  async () => {
    const dir = tempDir('fuzz');
    const pk = packets();
    const bases = [
      pcapBytes(pk, { linkType: 1 }),
      pcapBytes(pk, { linkType: 276, byteOrder: 'be', resolution: 'ns', snaplen: 96 }),
      Buffer.concat([
        pcapngBytes(
          pk.map((p, i) => ({ ...p, iface: i % 3 })),
          { interfaces: [{ linkType: 1 }, { linkType: 113, tsresol: 9 }, { linkType: 101, tsresol: 0x80 | 20 }] },
        ),
        pcapngBlock(4, Buffer.alloc(16, 1)),
        pcapngBytes(pk, { byteOrder: 'be', interfaces: [{ linkType: 0 }] }),
      ]),
    ];
    const r = rng(20261122);
    const f = path.join(dir, 'm');
    const outcomes = { clean: 0, warned: 0, userError: 0 };
    const raw = newRawPacket();
    const d = newDecodedPacket();
    for (let round = 0; round < 300; round++) {
      let b = mutateBytes(bases[round % bases.length], r);
      if (round % 10 === 9) b = zlib.gzipSync(b);
      if (round % 10 === 4) {
        const g = zlib.gzipSync(b);
        g[r.int(g.length)] ^= 0xff;
        b = g;
      }
      fs.writeFileSync(f, b);
      try {
        const src = await openTrace(f);
        let n = 0;
        try {
          do {
            while (src.next(raw)) {
              decodePacket(raw, d);
              assert.ok(++n < 1000, `round ${round}: more packets than the file can hold`);
            }
          } while (await src.more());
        } finally {
          src.close();
        }
        if (src.warnings.length) outcomes.warned++;
        else outcomes.clean++;
      } catch (err) {
        if (!(err instanceof UserError)) throw new Error(`round ${round}: ${(err as Error).stack}`);
        assert.doesNotMatch(err.message, /\n/);
        outcomes.userError++;
      }
    }
    // The mutations must exercise every outcome, or the test proves little.
    assert.ok(outcomes.clean > 10 && outcomes.warned > 10 && outcomes.userError > 10, JSON.stringify(outcomes));
  },
);
