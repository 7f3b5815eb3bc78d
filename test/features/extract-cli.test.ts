import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { udpPacket, tcpPacket, writePcap, writePcapng, TCP_ACK } from '../../src/testkit/trace-writer';
import { FEATURE_NAMES } from '../../src/features/names';
import { DEFAULT_IDLE_TIMEOUT_S, DEFAULT_MAX_FLOWS, DEFAULT_WINDOW_MS } from '../../src/features/pipeline';
import { OUTPUT_FORMATS } from '../../src/features/writers';
import { nullDeviceIn } from '../../src/testkit/null-device';
import { syntheticCall } from '../../src/testkit/synthetic';

const CLI = path.resolve(__dirname, '../../src/cli/spymate.js');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-extract-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

function spymate(...args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const T0 = 1700000000.2;
/** A 6 s call (person for the first 3 s) plus DNS and an HTTP download, IPv4; and an IPv6 call on a VLAN, in pcapng. */
const trace = path.join(dir, 'call.pcap');
const trace6 = path.join(dir, 'call6.pcapng');
{
  const pk = syntheticCall({
    a: '192.168.1.15',
    b: '10.0.0.9',
    aPort: 50000,
    bPort: 60000,
    start: T0,
    seconds: 6,
    person: (t) => t < 3,
  });
  for (let i = 0; i < 10; i++) {
    pk.push(
      udpPacket({
        src: '192.168.1.15',
        dst: '192.168.1.1',
        sport: 40000 + i,
        dport: 53,
        ts: T0 + i * 0.5,
        payloadLen: 40,
      }),
    );
    pk.push(
      udpPacket({
        src: '192.168.1.1',
        dst: '192.168.1.15',
        sport: 53,
        dport: 40000 + i,
        ts: T0 + i * 0.5 + 0.01,
        payloadLen: 120,
      }),
    );
  }
  for (let i = 0; i < 500; i++) {
    pk.push(
      tcpPacket({
        src: '93.184.216.34',
        dst: '192.168.1.15',
        sport: 80,
        dport: 45000,
        ts: T0 + i * 0.01,
        flags: TCP_ACK,
        payloadLen: 1400,
      }),
    );
  }
  writePcap(
    trace,
    pk.sort((a, b) => a.ts - b.ts),
  );
  const pk6 = syntheticCall({
    a: '2001:db8::15',
    b: '2001:db8:1::9',
    aPort: 50001,
    bPort: 60001,
    start: T0,
    seconds: 4,
    vlan: [42],
  });
  writePcapng(trace6, pk6);
}

function csv(text: string): { header: string[]; rows: string[][] } {
  const lines = text.trimEnd().split('\n');
  return { header: lines[0].split(','), rows: lines.slice(1).map((l) => l.split(',')) };
}

test('extract writes the call windows, only of the call, to a 0600 file, and says what it did', () => {
  const out = path.join(dir, 'w.csv');
  const r = spymate('extract', trace, '-o', out);
  assert.equal(r.code, 0, r.err);
  assert.equal(fs.statSync(out).mode & 0o777, 0o600);
  assert.match(r.err, /call\.pcap: \d+ packets, 12 flows, 1 call, 13 windows\n$/);
  const { header, rows } = csv(fs.readFileSync(out, 'utf8'));
  assert.deepEqual(header.slice(0, 12), [
    'flowID',
    'app',
    'srcIP',
    'srcPort',
    'desIP',
    'desPort',
    'protocol',
    'start',
    'end',
    'packets',
    'bytes',
    'callCertainty',
  ]);
  assert.equal(header.length, 12 + FEATURE_NAMES.length);
  assert.ok(
    rows.every((row) => row[11] === '1'),
    'a rule named the call: certainty 1',
  );
  assert.equal(rows.length, 13, '6 s from .2 to 6.2 covers windows [0,0.5) … [6,6.5)');
  assert.ok(
    rows.every((row) => row[1] === 'webrtc' && row[2] === '192.168.1.15' && row[3] === '50000' && row[6] === 'UDP'),
  );
  assert.equal(new Set(rows.map((row) => row[0])).size, 1);
  assert.deepEqual(
    rows.map((row) => Number(row[7])),
    rows.map((_, i) => 1700000000 + i * 0.5),
  );
});

test('-o - writes to stdout; --format and the -o extension choose the format', () => {
  const r = spymate('extract', trace, '-o', '-', '--format', 'ndjson', '-q');
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '', '-q: nothing on stderr');
  const objs = r.out
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(objs.length, 13);
  assert.equal(objs[0].app, 'webrtc');
  const byExt = path.join(dir, 'w.arff');
  assert.equal(spymate('extract', trace, '-o', byExt, '-q').code, 0);
  assert.match(fs.readFileSync(byExt, 'utf8'), /^@relation spymate-windows$/m);
  const plain = spymate('extract', trace);
  assert.equal(csv(plain.out).rows.length, 13, 'default: CSV on stdout');
  const rules = path.join(dir, 'none.rules');
  fs.writeFileSync(rules, 'never: tcp port=1\n');
  const none = spymate('extract', trace, '--rules', rules);
  assert.equal(none.code, 0);
  assert.equal(csv(none.out).rows.length, 0, 'a header and no rows');
  assert.match(none.err, /0 calls, 0 windows \(no flow matched a call rule/);
});

test('a reader that stops early (| head) ends extract quietly', () => {
  // 60 s in 100 ms windows: 600 rows, far more than a pipe holds
  const long = path.join(dir, 'long.pcap');
  writePcap(
    long,
    syntheticCall({ a: '192.168.1.15', b: '10.0.0.9', aPort: 50000, bPort: 60000, start: T0, seconds: 60 }),
  );
  const r = spawnSync(
    'bash',
    [
      '-c',
      `set -o pipefail; "${process.execPath}" "${CLI}" extract "${long}" --window 100 -q | head -c 100 > /dev/null`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
});

test("the CLI defaults are the pipeline's", () => {
  const help = spymate('extract', '--help').out;
  assert.match(help, new RegExp(`--window <ms>.*default: ${DEFAULT_WINDOW_MS}`, 's'));
  assert.match(help, new RegExp(`--timeout <s>.*default: ${DEFAULT_IDLE_TIMEOUT_S}\\)`, 's'));
  assert.match(help, new RegExp(`--max-flows <n>.*default: ${DEFAULT_MAX_FLOWS}\\)`, 's'));
  assert.match(help, new RegExp(`choices: ${OUTPUT_FORMATS.map((f) => `"${f}"`).join(', ')}`));
});

test('the same trace gives the same flow IDs and the same output, from a file or from stdin', () => {
  const a = spymate('extract', trace, '-q');
  const b = spymate('extract', trace, '-q');
  assert.equal(a.code, 0);
  assert.equal(a.out, b.out);
  const piped = spawnSync(process.execPath, [CLI, 'extract', '-', '-q'], {
    input: fs.readFileSync(trace),
    encoding: 'utf8',
  });
  assert.equal(piped.status, 0, piped.stderr);
  assert.equal(piped.stdout, a.out);
  assert.match(csv(a.out).rows[0][0], /^[0-9a-f]{16}$/);
});

test('IPv6 calls on a VLAN in pcapng, and several traces paired with their labels', () => {
  const l1 = path.join(dir, 'a.labels.csv');
  const l2 = path.join(dir, 'b.labels.csv');
  fs.writeFileSync(l1, 'start,end,label\n0,3,person\n3,7,background\n');
  fs.writeFileSync(l2, `${T0 - 1},${T0 + 10},1\n`);
  const r = spymate('extract', trace, trace6, '--labels', l1, l2, '--format', 'csv', '-q');
  assert.equal(r.code, 0, r.err);
  const { header, rows } = csv(r.out);
  assert.equal(header[header.length - 1], 'label');
  const v4 = rows.filter((row) => row[2] === '192.168.1.15');
  const v6 = rows.filter((row) => row[2] === '2001:db8::15');
  assert.equal(v6.length, 9);
  assert.ok(v6.every((row) => row[row.length - 1] === '1'));
  // relative labels from the first packet (T0 = …000.2): person covers windows ending by 3.2, background from 3.2
  const labelAt = (start: number) => v4.find((row) => Number(row[7]) === 1700000000 + start)!.slice(-1)[0];
  assert.equal(labelAt(0), '', 'window [0,0.5) starts before the trace start + 0');
  assert.equal(labelAt(0.5), '1');
  assert.equal(labelAt(2.5), '1');
  assert.equal(labelAt(3), '', 'window [3,3.5) straddles the change at 3.2');
  assert.equal(labelAt(3.5), '0');
});

test('usage errors exit 2 with one line; runtime errors exit 1 with one line; no half output is left', () => {
  const oneLine = (s: string) => s.trimEnd().split('\n').length === 1 && !/\n\s+at /.test(s);
  const cases: Array<[string[], number, RegExp]> = [
    [['extract', trace, '--window', '50'], 2, /--window must be a whole number from 100 to 900, got '50'/],
    [['extract', trace, '--window', 'abc'], 2, /--window/],
    [['extract', trace, '--format', 'xml'], 2, /--format/],
    [['extract', trace, '--local', '10.0.0.0/40'], 2, /prefix length/],
    [['extract', trace, trace6, '--labels', path.join(dir, 'a.labels.csv')], 2, /1 file\(s\) for 2 trace\(s\)/],
    [['extract'], 2, /missing required argument/],
    [['extract', path.join(dir, 'nope.pcap')], 1, /nope\.pcap: no such trace file/],
  ];
  for (const [args, code, why] of cases) {
    const r = spymate(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, why);
    assert.ok(oneLine(r.err), r.err);
  }
  const bad = path.join(dir, 'bad.rules');
  fs.writeFileSync(bad, 'ok: udp\nzoom: udp port=88o1\n');
  const r = spymate('extract', trace, '--rules', bad);
  assert.equal(r.code, 1);
  assert.equal(r.err, `spymate: ${bad}:2: '88o1' is not a port or a port range like 3478-3481\n`);

  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'hello, this is not a trace\n');
  const out = path.join(dir, 'half.csv');
  const t = spymate('extract', trace, text, '-o', out);
  assert.equal(t.code, 1);
  assert.ok(
    oneLine(
      t.err
        .split('\n')
        .filter((l) => !l.startsWith('spymate extract:'))
        .join('\n'),
    ),
    t.err,
  );
  assert.match(t.err, /notes\.txt: not a pcap or pcapng trace/);
  assert.ok(!fs.existsSync(out), 'a failed extract leaves no output behind');
});

test(
  '-o a device: written to, never made private or removed; a full one is said in one line',
  { skip: process.getuid?.() === 0 ? false : 'needs root (mknod)' },
  () => {
    const dev = nullDeviceIn(dir);
    assert.equal(spymate('extract', trace, '-q', '-o', dev).code, 0);
    assert.equal(fs.statSync(dev).mode & 0o777, 0o666, 'mode kept');
    const bad = path.join(dir, 'not-a-trace.pcap');
    fs.writeFileSync(bad, 'garbage');
    assert.equal(spymate('extract', bad, '-o', dev).code, 1);
    assert.ok(fs.existsSync(dev) && fs.statSync(dev).isCharacterDevice(), 'a failed run leaves the device alone');
    const full = spymate('extract', trace, '-q', '-o', '/dev/full');
    assert.equal(full.code, 1);
    assert.equal(full.err, 'spymate: /dev/full: no space left on the device (free some space and retry)\n');
  },
);

test("a trace out of time order is read whole, with one warning naming it and the fix; reordercap's sort of it reads as the sorted trace", () => {
  // all that A sent, then all that B sent: `mergecap -a` of a capture of each direction
  const call = syntheticCall({
    a: '192.168.1.15',
    b: '10.0.0.9',
    aPort: 50000,
    bPort: 60000,
    start: T0,
    seconds: 6,
    person: (t) => t < 3,
  });
  const fromA = (p: (typeof call)[number]) => p.ip!.subarray(12, 16).join('.') === '192.168.1.15';
  const pk = [...call.filter(fromA), ...call.filter((p) => !fromA(p))];
  let newest = -Infinity;
  let late = 0;
  for (const p of pk) {
    if (p.ts < newest - 0.5) late++;
    newest = Math.max(newest, p.ts);
  }
  assert.ok(late > 100, `the unsorted order steps back by over a window ${late} times`);
  const unsorted = path.join(dir, 'unsorted.pcap');
  const sorted = path.join(dir, 'sorted.pcap');
  writePcap(unsorted, pk);
  writePcap(
    sorted,
    [...pk].sort((a, b) => a.ts - b.ts),
  );

  const u = spymate('extract', unsorted, '-o', '-');
  assert.equal(u.code, 0, u.err);
  const lines = u.err.trimEnd().split('\n');
  assert.equal(lines.length, 2, u.err);
  assert.equal(
    lines[0],
    `spymate: warning: ${unsorted}: not in time order: ${late} packets are more than one window (500 ms) older than packets ` +
      `before them (up to ${lines[0].match(/up to (\d+\.\d) s/)![1]} s), so their windows are wrong; sort it first: reordercap ${unsorted} sorted.pcapng`,
  );
  const s = spymate('extract', sorted, '-o', '-');
  assert.equal(s.code, 0, s.err);
  assert.doesNotMatch(s.err, /warning/);
  const total = (text: string) => csv(text).rows.reduce((n, row) => n + Number(row[9]), 0);
  assert.equal(total(u.out), total(s.out), 'every packet is counted, in some window');
  assert.notEqual(u.out, s.out);

  // a step back within one window (two taps merged by arrival) is no reason to warn
  const jittered = path.join(dir, 'jittered.pcap');
  const bySorted = [...pk].sort((a, b) => a.ts - b.ts);
  writePcap(
    jittered,
    bySorted.map((_, i) => bySorted[i % 2 === 0 ? Math.min(i + 1, bySorted.length - 1) : i - 1]),
  );
  const j = spymate('extract', jittered, '-o', '-');
  assert.equal(j.code, 0, j.err);
  assert.doesNotMatch(j.err, /warning/);

  const reordered = path.join(dir, 'reordered.pcap');
  const r = spawnSync('reordercap', [unsorted, reordered], { encoding: 'utf8' });
  if (r.error) return; // reordercap (wireshark-common) not installed: the rest needs it
  const ro = spymate('extract', reordered, '-o', '-');
  assert.doesNotMatch(ro.err, /warning/);
  assert.equal(ro.out, s.out, 'sorted as the warning says, the trace gives the sorted windows');
});
