import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddr, parseAddr } from '../../src/capture/addr';

test('IPv4 addresses round-trip through words', () => {
  const a = parseAddr('192.168.1.15')!;
  assert.equal(a.version, 4);
  assert.equal(a.words[0], 0xc0a8010f);
  assert.equal(formatAddr(a.words, 4), '192.168.1.15');
  assert.equal(formatAddr(Uint32Array.of(0xffffffff, 0, 0, 0), 4), '255.255.255.255');
});

test('IPv6 is written in RFC 5952 short form', () => {
  const cases: Array<[string, string]> = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run wins
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['2001:DB8::ABCD', '2001:db8::abcd'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['64:ff9b::192.0.2.33', '64:ff9b::c000:221'],
  ];
  for (const [input, want] of cases) {
    const a = parseAddr(input);
    assert.ok(a, input);
    assert.equal(a.version, 6);
    assert.equal(formatAddr(a.words, 6), want, input);
  }
});

test('invalid addresses are refused', () => {
  for (const s of [
    '',
    '1.2.3',
    '1.2.3.256',
    '01.2.3.4',
    '1.2.3.4.5',
    'a.b.c.d',
    '1::2::3',
    '12345::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    ':::',
    'g::1',
    '1.2.3.4::1',
    '::1:2:3:4:5:6:7:8',
  ]) {
    assert.equal(parseAddr(s), null, s);
  }
});
