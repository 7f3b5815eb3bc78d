import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { pcapBytes, pcapngBlock, pcapngBytes, TracePacket, udpPacket } from '../../src/testkit/trace-writer';
import { tempDir } from './trace-files';

/**
 * Each bad input goes through a child process that reads the trace the way the CLI does
 * (runMain), so what is checked is what a user sees: stderr lines, stdout, exit code.
 */
const dir = tempDir('bad');
const readerJs = path.resolve(__dirname, '../../src/capture/reader.js');
const decodeJs = path.resolve(__dirname, '../../src/capture/decode.js');
const errorsJs = path.resolve(__dirname, '../../src/util/errors.js');
const script = `const { openTrace } = require(${JSON.stringify(readerJs)});
  const { newRawPacket, newDecodedPacket, decodePacket } = require(${JSON.stringify(decodeJs)});
  const { runMain } = require(${JSON.stringify(errorsJs)});
  runMain('spymate', async () => {
    const s = await openTrace(process.argv[2]); const r = newRawPacket(); const d = newDecodedPacket(); let n = 0;
    try { do while (s.next(r)) { decodePacket(r, d); n++; } while (await s.more()); } finally { s.close(); }
    for (const w of s.warnings) process.stderr.write('spymate: warning: ' + w + '\\n');
    console.log(n + ' packets');
  });`;
const driver = path.join(dir, 'read-trace.js');
fs.writeFileSync(driver, script);

function run(file: string, asUser?: number): { stdout: string; stderr: string; status: number | null } {
  const args = [driver, file];
  const r =
    asUser === undefined
      ? spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 20000 })
      : spawnSync('setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, ...args], {
          encoding: 'utf8',
          timeout: 20000,
        });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

function write(name: string, bytes: Buffer | string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, bytes);
  return f;
}

/** One line on stderr, exactly `spymate: <message>`, exit code 1, nothing on stdout. */
function assertFails(file: string, message: RegExp, asUser?: number): void {
  const r = run(file, asUser);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stdout, '');
  assert.equal(r.stderr.split('\n').length, 2, `one line expected: ${r.stderr}`);
  assert.match(r.stderr.trimEnd(), new RegExp(`^spymate: ${message.source}$`));
  assert.doesNotMatch(r.stderr, /\bat \S+ \(|internal error/);
}

const pkts: TracePacket[] = Array.from({ length: 5 }, (_, i) =>
  udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1000, dport: 2000, payloadLen: 100 + i, ts: 1700000000 + i }),
);
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

test('empty file', () => {
  const f = write('empty.pcap', '');
  assertFails(f, new RegExp(`${esc(f)}: file is empty; expected a pcap or pcapng trace`));
});

test('text file', () => {
  const f = write('notes.txt', 'hello, this is not a trace\n');
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: not a pcap or pcapng trace \\(it starts with text "hell…"\\); give a file written by tcpdump, dumpcap, Wireshark or spymate`,
    ),
  );
});

test('binary file that is not a trace', () => {
  const f = write('x.bin', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1]));
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: not a pcap or pcapng trace \\(it starts with bytes 7f 45 4c 46\\); give a file written by tcpdump, dumpcap, Wireshark or spymate`,
    ),
  );
});

test('zstd, lz4, xz and bzip2 traces are named as such, with the command that unpacks them', () => {
  for (const [magic, name, command] of [
    ['28b52ffd', 'zstd', 'zstd -d FILE'],
    ['04224d18', 'lz4', 'lz4 -d FILE'],
    ['fd377a585a00', 'xz', 'xz -dk FILE'],
    ['425a6839', 'bzip2', 'bunzip2 -k FILE'],
  ]) {
    const f = write(`t.pcapng.${name}`, Buffer.concat([Buffer.from(magic, 'hex'), Buffer.alloc(20)]));
    assertFails(
      f,
      new RegExp(`${esc(f)}: ${name}-compressed; decompress it first \\(${esc(command)}\\) or recompress with gzip`),
    );
  }
});

test('pcap cut off in the middle of a record: a warning and every packet before it', () => {
  const whole = pcapBytes(pkts);
  const f = write('cut.pcap', whole.subarray(0, whole.length - 30));
  const r = run(f);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '4 packets\n');
  const at = whole.length - (16 + 14 + 20 + 8 + 104);
  assert.equal(
    r.stderr,
    `spymate: warning: ${f}: trace cut off in the middle of a record at byte ${at}; read 4 packets before it\n`,
  );
});

test('pcapng cut off in the middle of a block: a warning and every packet before it', () => {
  const whole = pcapngBytes(pkts);
  const f = write('cut.pcapng', whole.subarray(0, whole.length - 10));
  const r = run(f);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '4 packets\n');
  assert.match(
    r.stderr,
    new RegExp(
      `^spymate: warning: ${esc(f)}: trace cut off in the middle of a record at byte \\d+; read 4 packets before it\\n$`,
    ),
  );
});

test('pcapng cut off inside a block it skips: a warning with where the block started', () => {
  const whole = Buffer.concat([pcapngBytes(pkts), pcapngBlock(0xbad, Buffer.alloc(3 << 20))]);
  const f = write('cut-skip.pcapng', whole.subarray(0, whole.length - 100));
  const r = run(f);
  assert.equal(r.status, 0);
  assert.equal(r.stdout, '5 packets\n');
  assert.equal(
    r.stderr,
    `spymate: warning: ${f}: trace cut off in the middle of a record at byte ${pcapngBytes(pkts).length}; read 5 packets before it\n`,
  );
});

test('pcap cut off inside its file header', () => {
  const f = write('hdr.pcap', pcapBytes([]).subarray(0, 10));
  assertFails(
    f,
    new RegExp(`${esc(f)}: trace cut off inside its 24-byte pcap file header \\(10 bytes\\); the file is incomplete`),
  );
});

test('record length over 256 KiB', () => {
  const b = pcapBytes(pkts);
  const second = 24 + 16 + 14 + 20 + 8 + 100;
  b.writeUInt32LE(300000, second + 8);
  const f = write('huge.pcap', b);
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: record 2 at byte ${second} claims 300000 captured bytes, over the 256 KiB limit; the file is damaged or not a trace \\(re-capture it, or cut the good part out with editcap\\)`,
    ),
  );
});

test('unknown link type in a pcap header and in a pcapng interface', () => {
  const f = write(
    'usb.pcap',
    pcapBytes(
      pkts.map((p) => ({ ts: p.ts, frame: Buffer.alloc(30) })),
      { linkType: 220, byteOrder: 'be' },
    ),
  );
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: link type 220 \\(pcap file header, byte 20\\) is not supported; supported link types: 0 \\(BSD loopback\\), 1 \\(Ethernet\\), 101 \\(raw IP\\), 108 \\(OpenBSD loopback\\), 113 \\(Linux cooked SLL\\), 228 \\(raw IPv4\\), 229 \\(raw IPv6\\), 276 \\(Linux cooked SLL2\\)`,
    ),
  );
  const g = write('usb.pcapng', pcapngBytes([], { interfaces: [{ linkType: 1 }, { linkType: 189 }] }));
  assertFails(
    g,
    new RegExp(
      `${esc(g)}: link type 189 \\(pcapng interface 1, block 3 at byte 48\\) is not supported; supported link types: 0 .*`,
    ),
  );
});

test('pcapng block with a bad length', () => {
  const b = pcapngBytes(pkts);
  const third = 28 + 20; // after the section header and the interface block
  for (const [len, why] of [
    [13, 'not a multiple of 4 of at least 12'],
    [8, 'not a multiple of 4 of at least 12'],
    [b.readUInt32LE(third + 4) + 4, 'the copy at its end differs'],
    [64 * 1024 * 1024, 'over the 1 MiB we accept for this kind of block'],
  ] as const) {
    const copy = Buffer.from(b);
    copy.writeUInt32LE(len, third + 4);
    const f = write(`badlen-${len}.pcapng`, copy);
    assertFails(
      f,
      new RegExp(
        `${esc(f)}: pcapng block 3 at byte ${third} has a bad length \\(${len}: ${why}\\); the file is damaged \\(re-capture it, or cut the good part out with editcap\\)`,
      ),
    );
  }
});

test('pcapng packet on an interface the section never described', () => {
  const b = pcapngBytes(pkts);
  b.writeUInt32LE(3, 48 + 8);
  const f = write('iface.pcapng', b);
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: pcapng block 3 at byte 48 uses interface 3, but the section describes 1; the file is damaged \\(re-save it with Wireshark or editcap\\)`,
    ),
  );
});

test('pcapng section header with a bad byte-order magic', () => {
  const b = pcapngBytes(pkts);
  b.writeUInt32LE(0x12345678, 8);
  const f = write('bom.pcapng', b);
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: pcapng section header at byte 0 has a bad byte-order magic; the file is damaged or not a pcapng trace`,
    ),
  );
});

test('damaged gzip data', () => {
  const gz = zlib.gzipSync(pcapBytes(pkts));
  gz.fill(0xff, 20, 40);
  const f = write('bad.pcap.gz', gz);
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: gzip data damaged near byte \\d+ \\(.+\\); decompress it with gunzip to see how much is recoverable`,
    ),
  );
});

test('gzip member whose length check fails', () => {
  const gz = zlib.gzipSync(pcapBytes(pkts));
  gz.writeUInt32LE(gz.readUInt32LE(gz.length - 4) + 1, gz.length - 4);
  const f = write('size.pcap.gz', gz);
  const size = pcapBytes(pkts).length;
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: gzip member 1 says it holds ${size + 1} bytes but inflates to ${size} \\(trailer at byte ${gz.length - 8}\\); the file is damaged — decompress it with gunzip to see how much is recoverable`,
    ),
  );
});

test('second gzip member with a bad header', () => {
  const one = zlib.gzipSync(pcapBytes(pkts));
  const two = zlib.gzipSync(Buffer.alloc(10));
  two[2] = 7; // compression method other than deflate
  const f = write('member2.pcap.gz', Buffer.concat([one, two]));
  assertFails(
    f,
    new RegExp(
      `${esc(f)}: gzip member 2 at byte ${one.length} has a bad header; decompress it with gunzip to see how much is recoverable`,
    ),
  );
});

test('missing file', () => {
  const f = path.join(dir, 'nope.pcap');
  assertFails(f, new RegExp(`${esc(f)}: no such file; check the path`));
});

test('directory', () => {
  assertFails(dir, new RegExp(`${esc(dir)}: is a directory; give a pcap or pcapng file`));
});

test('a read that fails (EIO) names the file, not an internal error', () => {
  // Reading /proc/self/mem at offset 0 fails with EIO: a stand-in for a failing disk.
  assertFails(
    '/proc/self/mem',
    /\/proc\/self\/mem: reading failed \(EIO: i\/o error, read\); check the disk or copy the trace elsewhere/,
  );
});

test('permission denied', () => {
  const f = write('secret.pcap', pcapBytes(pkts));
  fs.chmodSync(f, 0o000);
  fs.chmodSync(dir, 0o755);
  // root reads anything: as root, the check runs as nobody.
  assertFails(
    f,
    new RegExp(`${esc(f)}: permission denied; check the file mode or run with the needed rights`),
    process.getuid?.() === 0 ? 65534 : undefined,
  );
});

test('the same messages for stdin name it "stdin"', () => {
  const empty = spawnSync(process.execPath, [driver, '-'], { input: '', encoding: 'utf8', timeout: 20000 });
  assert.equal(empty.status, 1);
  assert.equal(empty.stderr, 'spymate: stdin: no data; expected a pcap or pcapng trace\n');
  const r = spawnSync(process.execPath, [driver, '-'], { input: 'just text', encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 1);
  assert.equal(
    r.stderr,
    'spymate: stdin: not a pcap or pcapng trace (it starts with text "just…"); give a file written by tcpdump, dumpcap, Wireshark or spymate\n',
  );
});

test('stdin that is a terminal is refused instead of waiting forever', { timeout: 20000 }, () => {
  // `script` gives the child a pseudo-terminal as stdin.
  const r = spawnSync('script', ['-qec', `${process.execPath} ${driver} -`, '/dev/null'], {
    encoding: 'utf8',
    timeout: 15000,
    input: '',
  });
  assert.match(
    r.stdout,
    /spymate: stdin is a terminal, not a trace; pipe one in \(tcpdump -w - … \| spymate …\) or give a file name/,
  );
});
