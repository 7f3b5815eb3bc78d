import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { pcapBytes, pcapngBytes, TracePacket, tcpPacket, udpPacket } from '../../src/testkit/trace-writer';
import { tempDir } from './trace-files';

/**
 * The per-packet path must not allocate. With a 1 MB young generation, allocating even 16 bytes
 * per packet shows up as scavenges in every read of 60 000 packets; reading and decoding shows none.
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
 * Scavenges during each of three full reads, after two that warm the JIT (the first optimised
 * pass still allocates a little: tier-up left one scavenge there now and then), and the packets read.
 */
function scavengesWhileReading(file: string): { scavenges: number[]; packets: number } {
  const script = `const { openTrace } = require(${JSON.stringify(readerJs)});
    const d = require(${JSON.stringify(decodeJs)});
    for (const pass of ['w1', 'w2', ${MEASURED.map((m) => `'${m}'`).join(', ')}]) {
      const s = openTrace(process.argv[1]); const r = d.newRawPacket(); const o = d.newDecodedPacket(); let n = 0;
      console.log('start ' + pass);
      while (s.next(r)) { n++; d.decodePacket(r, o); }
      console.log('end ' + pass + ' ' + n);
      s.close();
    }`;
  const r = spawnSync(process.execPath, ['--max-semi-space-size=1', '--trace-gc', '-e', script, file], {
    encoding: 'utf8',
    timeout: 60000,
  });
  const lines = r.stdout.split('\n');
  let packets = 0;
  const scavenges = MEASURED.map((m) => {
    const from = lines.indexOf(`start ${m}`);
    const to = lines.findIndex((l) => l.startsWith(`end ${m} `));
    assert.ok(from >= 0 && to > from, r.stdout + r.stderr);
    packets = Number(lines[to].split(' ')[2]);
    return lines.slice(from, to).filter((l) => l.includes('Scavenge')).length;
  });
  return { scavenges, packets };
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
      const { scavenges, packets: n } = scavengesWhileReading(f);
      assert.equal(n, 60000, name);
      // Allocating per packet would collect in every pass; a stray collection (a timer, the last of
      // the JIT's work) lands in one pass now and then.
      assert.equal(
        Math.min(...scavenges),
        0,
        `${name}: young-generation collections in each pass: ${scavenges.join(', ')}`,
      );
      assert.ok(
        scavenges.reduce((a, b) => a + b, 0) <= 2,
        `${name}: young-generation collections in each pass: ${scavenges.join(', ')}`,
      );
    }
  },
);
