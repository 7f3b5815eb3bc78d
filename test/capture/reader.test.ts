import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import {
  frameOf,
  pcapBytes,
  pcapngBlock,
  pcapngBytes,
  tcpPacket,
  TracePacket,
  udpPacket,
  writePcap,
  writePcapng,
} from '../../src/testkit/trace-writer';
import { readAll, tempDir } from './trace-files';

const dir = tempDir('reader');
const T0 = 1700000000;

function sample(n = 6): TracePacket[] {
  const out: TracePacket[] = [];
  for (let i = 0; i < n; i++) {
    const v6 = i % 3 === 2;
    const o = {
      src: v6 ? '2001:db8::1' : '10.0.0.1',
      dst: v6 ? '2001:db8::2' : '10.0.0.2',
      sport: 4000 + i,
      dport: 443,
      payloadLen: 50 * i,
      ts: T0 + i * 0.123457,
    };
    out.push(i % 2 ? tcpPacket(o) : udpPacket(o));
  }
  return out;
}

function assertSamePackets(
  got: Awaited<ReturnType<typeof readAll>>,
  want: TracePacket[],
  /** each packet's link type: Ethernet (1) unless said */
  linkTypes: number[] = want.map(() => 1),
  tol = 1e-6,
): void {
  assert.deepEqual(got.warnings, []);
  assert.equal(got.packets.length, want.length);
  got.packets.forEach((p, i) => {
    const frame = frameOf(want[i], linkTypes[i]);
    assert.equal(p.linkType, linkTypes[i], `packet ${i} link type`);
    assert.ok(Math.abs(p.ts - want[i].ts) <= tol, `packet ${i} ts ${p.ts} vs ${want[i].ts}`);
    assert.equal(p.wireLen, frame.length);
    assert.ok(p.frame.equals(frame), `packet ${i} bytes`);
  });
}

for (const byteOrder of ['le', 'be'] as const) {
  for (const resolution of ['us', 'ns'] as const) {
    test(`pcap, ${resolution} timestamps, ${byteOrder === 'le' ? 'little' : 'big'}-endian`, async () => {
      const f = path.join(dir, `p-${byteOrder}-${resolution}.pcap`);
      const pkts = sample();
      writePcap(f, pkts, { byteOrder, resolution, linkType: 113 });
      assertSamePackets(
        await readAll(f),
        pkts,
        pkts.map(() => 113),
      );
    });
  }
}

test('pcap nanosecond fractions are read as nanoseconds, not microseconds', async () => {
  const f = path.join(dir, 'ns-frac.pcap');
  const b = pcapBytes([udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, ts: T0 })], {
    resolution: 'ns',
  });
  b.writeUInt32LE(999_999_999, 24 + 4);
  fs.writeFileSync(f, b);
  const ts = (await readAll(f)).packets[0].ts;
  assert.ok(Math.abs(ts - (T0 + 0.999999999)) < 1e-6, String(ts));
});

test('pcap link type field: FCS bits above the low 16 bits are not part of the type', async () => {
  const f = path.join(dir, 'fcs.pcap');
  const b = pcapBytes(sample(2));
  b.writeUInt32LE(0x10000000 | 1, 20);
  fs.writeFileSync(f, b);
  assert.deepEqual(
    (await readAll(f)).packets.map((p) => p.linkType),
    [1, 1],
  );
});

test('pcap snaplen: captured length is cut, wire length kept', async () => {
  const f = path.join(dir, 'snap.pcap');
  const pkts = sample();
  writePcap(f, pkts, { snaplen: 96 });
  const got = (await readAll(f)).packets;
  got.forEach((p, i) => {
    const frame = frameOf(pkts[i], 1);
    assert.equal(p.wireLen, frame.length);
    assert.equal(p.capLen, Math.min(96, frame.length));
  });
  assert.ok(got.some((p) => p.capLen < p.wireLen));
});

for (const byteOrder of ['le', 'be'] as const) {
  test(`pcapng ${byteOrder}: interfaces with their own link types and if_tsresol (10^-n, 2^-n) and if_tsoffset`, async () => {
    const f = path.join(dir, `ng-${byteOrder}.pcapng`);
    const interfaces = [
      { linkType: 1 },
      { linkType: 276, tsresol: 9 },
      { linkType: 101, tsresol: 0x80 | 20 },
      { linkType: 0, tsresol: 3, tsoffset: T0 - 1000 },
      { linkType: 113, tsresol: 0x80 | 10 },
    ];
    const pkts = sample(15).map((p, i) => ({ ...p, iface: i % interfaces.length }));
    writePcapng(f, pkts, { byteOrder, interfaces });
    // Millisecond and 1/1024 s interfaces cannot hold µs: the tolerance is their resolution.
    const got = await readAll(f);
    assert.equal(got.packets.length, pkts.length);
    got.packets.forEach((p, i) => {
      const itf = interfaces[i % interfaces.length];
      assert.equal(p.linkType, itf.linkType);
      const tol = itf.tsresol === 3 ? 1e-3 : itf.tsresol === (0x80 | 10) ? 1 / 1024 : 1e-6;
      assert.ok(Math.abs(p.ts - pkts[i].ts) <= tol, `packet ${i}: ${p.ts} vs ${pkts[i].ts}`);
      assert.ok(p.frame.equals(frameOf(pkts[i], itf.linkType)));
    });
  });
}

test('pcapng: several sections, each with its own byte order and interfaces', async () => {
  const f = path.join(dir, 'sections.pcapng');
  const a = sample(4).map((p, i) => ({ ...p, iface: i % 2 }));
  const b = sample(3).map((p) => ({ ...p, ts: p.ts + 100 }));
  fs.writeFileSync(
    f,
    Buffer.concat([
      pcapngBytes(a, { interfaces: [{ linkType: 1 }, { linkType: 113 }] }),
      pcapngBytes(b, { byteOrder: 'be', interfaces: [{ linkType: 276, tsresol: 9 }] }),
    ]),
  );
  assertSamePackets(await readAll(f), [...a, ...b], [1, 113, 1, 113, 276, 276, 276]);
});

test('pcapng: unknown, statistics and name blocks are skipped, even ones larger than the read chunk', async () => {
  const f = path.join(dir, 'unknown.pcapng');
  const pkts = sample(3);
  const ng = pcapngBytes(pkts);
  const shbAndIdb = 28 + 20;
  const rest = ng.subarray(shbAndIdb);
  fs.writeFileSync(
    f,
    Buffer.concat([
      ng.subarray(0, shbAndIdb),
      pcapngBlock(4, Buffer.alloc(40, 1)), // name resolution
      pcapngBlock(0x00000bad, Buffer.alloc(3 * 1024 * 1024, 7)), // custom, 3 MiB
      rest,
      pcapngBlock(5, Buffer.alloc(28)), // interface statistics
    ]),
  );
  assertSamePackets(await readAll(f), pkts, [1, 1, 1]);
});

test('pcapng: simple packet blocks take the snaplen and the previous timestamp; obsolete packet blocks are read', async () => {
  const f = path.join(dir, 'spb.pcapng');
  const pkts = sample(3);
  fs.writeFileSync(f, pcapngBytes(pkts, { simple: true, interfaces: [{ linkType: 1, snaplen: 100 }] }));
  const got = (await readAll(f)).packets;
  assert.deepEqual(
    got.map((p) => [p.capLen, p.wireLen]),
    pkts.map((p) => {
      const n = frameOf(p, 1).length;
      return [Math.min(100, n), n];
    }),
  );
  // An SPB after an EPB carries the EPB's time.
  const spbFrame = frameOf(pkts[2], 1);
  const spbBody = Buffer.concat([Buffer.alloc(4), spbFrame]);
  spbBody.writeUInt32LE(spbFrame.length, 0);
  fs.writeFileSync(f, Buffer.concat([pcapngBytes(pkts.slice(0, 2)), pcapngBlock(3, spbBody)]));
  const mixed = (await readAll(f)).packets;
  assert.equal(mixed.length, 3);
  assert.equal(mixed[2].ts, mixed[1].ts);
  assert.ok(mixed[2].frame.equals(spbFrame));
  // OPB: 16-bit interface, 16-bit drops, then as an EPB.
  const frame = frameOf(pkts[1], 1);
  const body = Buffer.alloc(20 + frame.length);
  body.writeUInt32LE(Math.floor((T0 * 1e6) / 2 ** 32), 4);
  body.writeUInt32LE((T0 * 1e6) % 2 ** 32, 8);
  body.writeUInt32LE(frame.length, 12);
  body.writeUInt32LE(frame.length, 16);
  frame.copy(body, 20);
  const ng = pcapngBytes([]);
  fs.writeFileSync(f, Buffer.concat([ng, pcapngBlock(2, body)]));
  const opb = (await readAll(f)).packets;
  assert.equal(opb.length, 1);
  assert.ok(Math.abs(opb[0].ts - T0) < 1e-6);
  assert.ok(opb[0].frame.equals(frame));
});

/** Packets of random sizes up to 64 KiB plus one of the maximum 256 KiB, so records straddle chunk edges. */
function bigTrace(): TracePacket[] {
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const out: TracePacket[] = [];
  for (let i = 0; i < 400; i++) {
    const frame = crypto.randomBytes(i === 200 ? 256 * 1024 : 14 + Math.floor(rnd() * 65000));
    out.push({ ts: T0 + i / 1000, frame });
  }
  return out;
}

test('records crossing the 1 MiB read chunk come out whole, in pcap, pcapng and gzip', async () => {
  const pkts = bigTrace();
  const total = pkts.reduce((n, p) => n + p.frame!.length, 0);
  assert.ok(total > 10 * 1024 * 1024);
  const files = {
    'big.pcap': pcapBytes(pkts),
    'big.pcapng': pcapngBytes(pkts, { byteOrder: 'be' }),
    'big.pcap.gz': zlib.gzipSync(pcapBytes(pkts)),
  };
  for (const [name, bytes] of Object.entries(files)) {
    const f = path.join(dir, name);
    fs.writeFileSync(f, bytes);
    assertSamePackets(await readAll(f), pkts);
  }
});

test('gzip: pcap and pcapng, and concatenated gzip members, are read as one trace', async () => {
  const pkts = sample(8);
  const ng = path.join(dir, 'a.pcapng.gz');
  fs.writeFileSync(ng, zlib.gzipSync(pcapngBytes(pkts)));
  assertSamePackets(await readAll(ng), pkts);
  const whole = pcapBytes(pkts);
  const cat = path.join(dir, 'cat.pcap.gz');
  fs.writeFileSync(cat, Buffer.concat([zlib.gzipSync(whole.subarray(0, 100)), zlib.gzipSync(whole.subarray(100))]));
  assertSamePackets(await readAll(cat), pkts);
});

test('gzip: header fields (name, comment, extra, header CRC) are skipped; zero padding is accepted; trailing junk is a warning', async () => {
  const pkts = sample(8);
  const plain = pcapBytes(pkts);
  const gz = zlib.gzipSync(plain);
  // Rebuild the header with every optional field set.
  const extra = Buffer.from([4, 0, 1, 2, 3, 4]);
  const header = Buffer.concat([
    Buffer.from([0x1f, 0x8b, 8, 2 | 4 | 8 | 16, 0, 0, 0, 0, 0, 3]),
    extra,
    Buffer.from('trace.pcap\0comment\0'),
    Buffer.from([0xaa, 0xbb]),
  ]);
  const full = Buffer.concat([header, gz.subarray(10)]);
  const f = path.join(dir, 'fields.pcap.gz');
  fs.writeFileSync(f, full);
  assertSamePackets(await readAll(f), pkts);
  fs.writeFileSync(f, Buffer.concat([full, Buffer.alloc(3000)]));
  assertSamePackets(await readAll(f), pkts);
  fs.writeFileSync(f, Buffer.concat([full, Buffer.alloc(100), Buffer.from('junk')]));
  const junk = await readAll(f);
  assert.equal(junk.packets.length, pkts.length);
  assert.deepEqual(junk.warnings, [
    `${f}: bytes after the end of the gzip data (from byte ${full.length}) were ignored`,
  ]);
});

test('gzip cut off: warns, keeps the packets before the cut', async () => {
  const pkts = bigTrace().slice(0, 120);
  const gz = zlib.gzipSync(pcapBytes(pkts));
  const f = path.join(dir, 'cut.pcap.gz');
  fs.writeFileSync(f, gz.subarray(0, gz.length >> 1));
  const got = await readAll(f);
  assert.ok(got.packets.length > 10 && got.packets.length < 120, String(got.packets.length));
  got.packets.forEach((p, i) => assert.ok(p.frame.equals(pkts[i].frame!)));
  assert.equal(
    got.warnings[0],
    `${f}: compressed data cut off at byte ${gz.length >> 1} of the gzip file; what came before it was read`,
  );
  assert.match(
    got.warnings[1],
    new RegExp(
      `^${f}: trace cut off in the middle of a record at byte \\d+; read ${got.packets.length} packets before it$`,
    ),
  );
});

test('gzip: a member whose deflate data ends exactly where a 1 MiB read of the compressed file does', async () => {
  // Stored (level 0) deflate grows by one byte per input byte, and a few per block: pad the first
  // member's last frame until its deflate data ends at byte 1 MiB of the file, its trailer in the next read.
  const head: TracePacket[] = [];
  for (const p of bigTrace()) if (pcapBytes([...head, p]).length < (1 << 20) - 80000) head.push(p);
  const tail = sample(4);
  const second = zlib.gzipSync(pcapBytes(tail).subarray(24));
  const member = (pad: number) => {
    const pkts = [...head, { ts: T0 + 1, frame: Buffer.alloc(14 + pad, 9) }];
    return { pkts, first: zlib.gzipSync(pcapBytes(pkts), { level: 0 }) };
  };
  let pad = 0;
  let { pkts, first } = member(pad);
  for (let tries = 0; tries < 10 && first.length - 8 !== 1 << 20; tries++) {
    pad += (1 << 20) - (first.length - 8);
    ({ pkts, first } = member(pad));
  }
  assert.equal(first.length - 8, 1 << 20, 'no padding puts the end of the deflate data at 1 MiB');
  const f = path.join(dir, 'edge.pcap.gz');
  fs.writeFileSync(f, Buffer.concat([first, second]));
  assertSamePackets(await readAll(f), [...pkts, ...tail]);
  fs.writeFileSync(f, first.subarray(0, 1 << 20));
  const cut = await readAll(f);
  assert.equal(cut.packets.length, pkts.length);
  assert.deepEqual(cut.warnings, [
    `${f}: compressed data cut off at byte ${1 << 20} of the gzip file; what came before it was read`,
  ]);
});

const readerJs = path.resolve(__dirname, '../../src/capture/reader.js');
const decodeJs = path.resolve(__dirname, '../../src/capture/decode.js');

/** Reads `-` in a child process with `input` on its stdin; returns its packet count and byte sum. */
function readStdin(input: Buffer): { stdout: string; stderr: string; status: number | null } {
  const script = `const { openTrace } = require(${JSON.stringify(readerJs)});
    const { newRawPacket } = require(${JSON.stringify(decodeJs)});
    openTrace('-').then(async (s) => {
      const r = newRawPacket(); let n = 0, bytes = 0;
      do while (s.next(r)) { n++; bytes += r.capLen; } while (await s.more());
      console.log(n, bytes, s.warnings.length);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], {
    input,
    encoding: 'utf8',
    timeout: 30000,
  });
  return { stdout: r.stdout.trim(), stderr: r.stderr, status: r.status };
}

test("'-' reads the trace from stdin: pcap, pcapng and gzip, through a pipe in pieces", () => {
  const pkts = bigTrace();
  const bytes = pkts.reduce((n, p) => n + p.frame!.length, 0);
  const gz = zlib.gzipSync(pcapngBytes(pkts));
  for (const input of [pcapBytes(pkts), pcapngBytes(pkts), gz]) {
    const r = readStdin(input);
    assert.equal(r.stderr, '');
    assert.equal(r.stdout, `${pkts.length} ${bytes} 0`);
  }
});

test(
  'stdin left non-blocking by its owner and fed slowly: the reader waits for data instead of failing',
  { timeout: 60000 },
  async () => {
    const pkts = bigTrace().slice(0, 60);
    const bytes = pcapBytes(pkts);
    // Touching process.stdin makes Node switch a stdin pipe to non-blocking: reads then see EAGAIN.
    const script = `process.stdin;
    process.stdout.write('ready\\n');
    const { openTrace } = require(${JSON.stringify(readerJs)});
    const { newRawPacket } = require(${JSON.stringify(decodeJs)});
    openTrace('-').then(async (s) => {
      const r = newRawPacket(); let n = 0, bytes = 0;
      do while (s.next(r)) { n++; bytes += r.capLen; } while (await s.more());
      console.log(n, bytes, s.warnings.length);
    });`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const ready = new Promise<void>((resolve) =>
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('ready')) resolve();
      }),
    );
    child.stderr!.on('data', (d) => {
      err += d;
    });
    await ready;
    // The reader starts on an empty pipe, and finds it empty again between pieces.
    await new Promise((r) => setTimeout(r, 200));
    for (let off = 0; off < bytes.length; off += 200_000) {
      child.stdin!.write(bytes.subarray(off, off + 200_000));
      await new Promise((r) => setTimeout(r, 30));
    }
    child.stdin!.end();
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(err, '');
    assert.equal(code, 0);
    assert.equal(
      out.replace('ready\n', '').trim(),
      `${pkts.length} ${pkts.reduce((n, p) => n + p.frame!.length, 0)} 0`,
    );
  },
);

test(
  'memory does not grow with the trace: 300 MB plain and gzip-compressed read in bounded RSS',
  { timeout: 120000 },
  () => {
    const block = pcapBytes(bigTrace().slice(0, 20)).subarray(24); // ~650 KB of records
    const blockGz = zlib.gzipSync(block, { level: 1 });
    const f = path.join(dir, 'long.pcap');
    const gz = path.join(dir, 'long.pcap.gz');
    const fd = fs.openSync(f, 'w');
    const gzFd = fs.openSync(gz, 'w');
    fs.writeSync(fd, pcapBytes([]));
    fs.writeSync(gzFd, zlib.gzipSync(pcapBytes([])));
    let n = 0;
    for (let written = 0; written < 300e6; written += block.length) {
      fs.writeSync(fd, block);
      fs.writeSync(gzFd, blockGz); // a gzip member per block: `cat`-ed gzip files
      n += 20;
    }
    fs.closeSync(fd);
    fs.closeSync(gzFd);
    for (const file of [f, gz]) {
      const script = `const { openTrace } = require(${JSON.stringify(readerJs)});
      const { newRawPacket } = require(${JSON.stringify(decodeJs)});
      openTrace(process.argv[1]).then(async (s) => {
        const r = newRawPacket(); let n = 0;
        do while (s.next(r)) n++; while (await s.more());
        // VmHWM, not getrusage: ru_maxrss survives exec and would report the parent's peak.
        const hwm = /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1];
        console.log(n, Math.round(hwm / 1024));
      });`;
      const r = spawnSync(process.execPath, ['-e', script, file], {
        encoding: 'utf8',
        timeout: 60000,
      });
      const [count, rssMb] = r.stdout.trim().split(' ').map(Number);
      assert.equal(count, n, r.stderr);
      assert.ok(rssMb < 120, `${file}: peak RSS ${rssMb} MB`);
    }
    fs.rmSync(f);
    fs.rmSync(gz);
  },
);
