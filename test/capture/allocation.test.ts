import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { pcapBytes, pcapngBytes, TracePacket, tcpPacket, udpPacket } from '../../src/testkit/trace-writer';
import { tempDir } from './trace-files';

/**
 * The per-packet path must not allocate. Each read of 60 000 packets is measured in bytes the
 * young generation took (V8's own count, between two forced minor collections): allocating even
 * the smallest object per packet costs 16 bytes a packet. Counting collections would not do for
 * gzip: zlib's public stream API hands out a fresh 1 MiB buffer per piece, and V8 collects the
 * young generation every few dozen of them to free their memory, whatever the JavaScript allocates.
 */
const dir = tempDir('alloc');
const readerJs = path.resolve(__dirname, '../../src/capture/reader.js');
const decodeJs = path.resolve(__dirname, '../../src/capture/decode.js');

function packets(): TracePacket[] {
  const out: TracePacket[] = [];
  for (let i = 0; i < 1000; i++) {
    const v6 = i % 4 === 0;
    const o = {
      src: v6 ? '2001:db8::1' : '10.0.0.1',
      dst: v6 ? '2001:db8::2' : '10.0.0.2',
      sport: 5000 + (i % 50),
      dport: 3478,
      payloadLen: (i * 37) % 1200,
      ts: 1700000000 + i / 1000,
      vlan: i % 3 ? undefined : [5],
    };
    out.push(i % 7 ? udpPacket(o) : tcpPacket(o));
  }
  return out;
}

const MEASURED = ['m1', 'm2', 'm3'];

/**
 * Bytes allocated during each of three full reads, after two that warm the JIT (the first
 * optimised pass still allocates a little), and the packets read.
 */
function allocatedWhileReading(file: string): { bytes: number[]; packets: number } {
  const script = `const { openTrace } = require(${JSON.stringify(readerJs)});
    const d = require(${JSON.stringify(decodeJs)});
    (async () => {
      for (const pass of ['w1', 'w2', ${MEASURED.map((m) => `'${m}'`).join(', ')}]) {
        const s = await openTrace(process.argv[1]); const r = d.newRawPacket(); const o = d.newDecodedPacket(); let n = 0;
        gc({ type: 'minor' });
        console.log('start ' + pass);
        do while (s.next(r)) { n++; d.decodePacket(r, o); } while (await s.more());
        gc({ type: 'minor' });
        console.log('end ' + pass + ' ' + n);
        s.close();
      }
    })();`;
  const r = spawnSync(
    process.execPath,
    ['--expose-gc', '--max-semi-space-size=1', '--trace-gc-nvp', '-e', script, file],
    { encoding: 'utf8', timeout: 60000, maxBuffer: 64 << 20 },
  );
  const lines = r.stdout.split('\n');
  let packets = 0;
  const bytes = MEASURED.map((m) => {
    const from = lines.indexOf(`start ${m}`);
    const to = lines.findIndex((l) => l.startsWith(`end ${m} `));
    assert.ok(from >= 0 && to > from, r.stdout.slice(-2000) + r.stderr);
    packets = Number(lines[to].split(' ')[2]);
    // Each collection says what was allocated since the one before.
    return lines.slice(from, to).reduce((sum, l) => sum + Number(/ allocated=(\d+)/.exec(l)?.[1] ?? 0), 0);
  });
  return { bytes, packets };
}

test(
  'reading and decoding 60 000 packets allocates nothing per packet (pcap, pcapng, gzip)',
  { timeout: 120000 },
  () => {
    const pk = packets();
    const pcapBlock = pcapBytes(pk).subarray(24);
    const ngBlock = pcapngBytes(pk);
    const files: Array<[string, Buffer]> = [
      ['a.pcap', Buffer.concat([pcapBytes([]), ...Array(60).fill(pcapBlock)])],
      ['a.pcapng', Buffer.concat(Array(60).fill(ngBlock))],
    ];
    files.push(['a.pcap.gz', zlib.gzipSync(files[0][1], { level: 1 })]);
    for (const [name, bytes] of files) {
      const f = path.join(dir, name);
      fs.writeFileSync(f, bytes);
      const { bytes: allocated, packets: n } = allocatedWhileReading(f);
      assert.equal(n, 60000, name);
      // What is left is per read and per 1 MiB piece (a promise, a stream callback): a byte or two a packet.
      const perPacket = allocated.map((b) => b / n);
      assert.ok(
        Math.max(...perPacket) < 8,
        `${name}: bytes allocated per packet in each pass: ${perPacket.map((b) => b.toFixed(1)).join(', ')}`,
      );
    }
  },
);
