import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CidrSet, inCidr, isLocal, localSide, LocalSides, parseCidr, parseLocal } from '../../src/flow/local';
import { parseAddr } from '../../src/capture/addr';
import { UserError } from '../../src/util/errors';

const words = (s: string) => parseAddr(s)!.words;

test('parseCidr: IPv4 and IPv6 ranges and bare addresses', () => {
  const c = parseCidr('192.168.1.77/24');
  assert.equal(c.version, 4);
  assert.equal(c.words[0], ((192 << 24) | (168 << 16) | (1 << 8)) >>> 0, 'host bits are masked off');
  assert.ok(inCidr(words('192.168.1.200'), 4, c));
  assert.ok(!inCidr(words('192.168.2.1'), 4, c));
  const v6 = parseCidr('2001:db8::/32');
  assert.ok(inCidr(words('2001:db8:ffff::1'), 6, v6));
  assert.ok(!inCidr(words('2001:db9::1'), 6, v6));
  assert.ok(!inCidr(words('32.1.13.184'), 4, v6), 'an IPv4 address is never in an IPv6 range');
  const host = parseCidr('10.1.2.3');
  assert.ok(inCidr(words('10.1.2.3'), 4, host) && !inCidr(words('10.1.2.4'), 4, host));
  assert.ok(inCidr(words('8.8.8.8'), 4, parseCidr('0.0.0.0/0')));
  assert.ok(inCidr(words('fe80::1234'), 6, parseCidr('fe80::/10')));
});

test('parseCidr refuses bad input with a UserError that says what is wrong', () => {
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', 'banana', '10.0.0.0/', '10.0.0/8', '1.2.3.4/-1', '::/x']) {
    assert.throws(
      () => parseCidr(bad),
      (e: unknown) => e instanceof UserError && e.message.includes(bad),
      bad,
    );
  }
});

test('local side: --local endpoints, then its ranges, then private ranges, then the initiator', () => {
  const a = words('203.0.113.5');
  const b = words('10.0.0.9');
  // IPv4 addresses: version 4
  const side = (x: Uint32Array, y: Uint32Array, local: string[], xPort = 5000, yPort = 6000): 'a' | 'b' =>
    localSide(x, xPort, y, yPort, 4, new LocalSides(local.map(parseLocal)));
  assert.equal(side(a, b, []), 'b');
  assert.equal(side(a, b, ['203.0.113.0/24']), 'a');
  assert.equal(side(words('10.0.0.1'), b, []), 'a');
  assert.equal(side(words('127.0.0.1'), words('127.0.0.2'), ['127.0.0.2']), 'b');
  // both peers on one address: only the port tells them apart
  const lo = words('127.0.0.1');
  assert.equal(side(lo, lo, ['127.0.0.1'], 47660, 47440), 'a', 'an address alone cannot: the initiator');
  assert.equal(side(lo, lo, ['127.0.0.1:47440'], 47660, 47440), 'b');
  assert.equal(side(lo, lo, ['127.0.0.1:47660'], 47660, 47440), 'a');
  assert.equal(
    side(a, b, ['127.0.0.1:47440', '203.0.113.0/24']),
    'a',
    'a named endpoint not in the flow: the ranges decide',
  );
  assert.ok(isLocal(words('100.64.1.1'), 4, [parseCidr('100.64.0.0/10')]));
});

test('parseLocal: ADDR:PORT and [IPv6]:PORT name one endpoint; anything else is a range; bad ports are said', () => {
  assert.deepEqual(
    { ...parseLocal('127.0.0.1:47660') },
    { ...parseCidr('127.0.0.1'), text: '127.0.0.1:47660', port: 47660 },
  );
  assert.equal(parseLocal('[2001:db8::1]:5004').port, 5004);
  assert.equal(parseLocal('[2001:db8::1]:5004').version, 6);
  assert.equal(parseLocal('2001:db8::1').port, undefined, 'a bare IPv6 address is an address');
  assert.equal(parseLocal('10.0.0.0/8').port, undefined);
  for (const [bad, why] of [
    ['127.0.0.1:0', /port must be a number from 1 to 65535/],
    ['127.0.0.1:70000', /port must be a number from 1 to 65535/],
    ['[nope]:80', /is not ADDR:PORT/],
  ] as const) {
    assert.throws(
      () => parseLocal(bad),
      (e: unknown) => e instanceof UserError && why.test(e.message),
      bad,
    );
  }
});

test('CidrSet agrees with a plain scan on random addresses, merged and overlapping ranges included', () => {
  const cidrs = [
    '10.0.0.0/8',
    '10.1.0.0/16',
    '11.0.0.0/8',
    '192.168.1.0/24',
    '192.168.1.128/25',
    '0.0.0.0/32',
    '255.255.255.255/32',
    '2001:db8::/32',
  ].map(parseCidr);
  const set = new CidrSet(cidrs);
  let x = 99;
  for (let i = 0; i < 20000; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    const a = i % 4 === 0 ? (0x0a000000 | (x & 0x1ffffff)) >>> 0 : i % 4 === 1 ? (0xc0a80100 | (x & 0x1ff)) >>> 0 : x;
    const w = Uint32Array.of(a, 0, 0, 0);
    assert.equal(
      set.has(w, 4),
      isLocal(w, 4, cidrs),
      `address ${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`,
    );
  }
  assert.ok(set.has(Uint32Array.of(0, 0, 0, 0), 4) && set.has(Uint32Array.of(0xffffffff, 0, 0, 0), 4));
  assert.ok(set.has(words('2001:db8::5'), 6) && !set.has(words('2001:db9::5'), 6));
});
