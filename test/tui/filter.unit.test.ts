import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesAny, matchesIp, parseIpPattern, ipv4ToInt } from '../../src/tui/filter';
import { UserError } from '../../src/util/errors';

function m(pattern: string, ip: string): boolean {
  return matchesIp(parseIpPattern(pattern), ip);
}

test('the seed wildcard 24.62.* matches every 24.62.X.X and nothing else', () => {
  assert.equal(m('24.62.*', '24.62.0.0'), true);
  assert.equal(m('24.62.*', '24.62.255.17'), true);
  assert.equal(m('24.62.*', '24.63.1.1'), false);
  assert.equal(m('24.62.*', '124.62.1.1'), false);
  assert.equal(m('24.62.*.*', '24.62.9.9'), true);
});

test('a * may stand in any octet', () => {
  assert.equal(m('10.*.3.*', '10.200.3.4'), true);
  assert.equal(m('10.*.3.*', '10.200.4.4'), false);
  assert.equal(m('*.*.*.1', '8.8.8.1'), true);
  assert.equal(m('*', '1.2.3.4'), true);
  assert.equal(m('*', '2001:db8::1'), false);
});

test('exact IPv4, CIDR and IPv4-mapped IPv6 addresses', () => {
  assert.equal(m('192.168.1.15', '192.168.1.15'), true);
  assert.equal(m('192.168.1.15', '192.168.1.150'), false);
  assert.equal(m('10.0.0.0/8', '10.255.0.1'), true);
  assert.equal(m('10.0.0.0/8', '11.0.0.1'), false);
  assert.equal(m('192.168.4.0/22', '192.168.7.255'), true);
  assert.equal(m('192.168.4.0/22', '192.168.8.0'), false);
  assert.equal(m('0.0.0.0/0', '1.1.1.1'), true);
  assert.equal(m('10.0.0.0/8', '::ffff:10.1.2.3'), true);
});

test('IPv6 exact addresses and prefixes, in any spelling', () => {
  assert.equal(m('2001:db8::/32', '2001:db8:0:1::5'), true);
  assert.equal(m('2001:db8::/32', '2001:db9::5'), false);
  assert.equal(m('2001:db8::1', '2001:0db8:0000:0000:0000:0000:0000:0001'), true);
  assert.equal(m('2001:db8::1', '2001:db8::2'), false);
  assert.equal(m('fe80::/10', 'fe80::1%eth0'), true);
  assert.equal(m('fe80::/10', 'fec0::1'), false);
  assert.equal(m('::ffff:0:0/96', '::ffff:1.2.3.4'), true);
  assert.equal(m('2001:db8::/32', '10.0.0.1'), false);
});

test('bad patterns are refused with the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['24.62', /4 parts.*24\.62\.\*/],
    ['256.1.1.1', /256 is out of range/],
    ['10.0.0.0/33', /prefix length.*0 to 32/],
    ['10.0.*.0/8', /wildcard or a \/prefix/],
    ['10.0/8', /full address/],
    ['2001:db8::*', /wildcards are for IPv4/],
    ['2001:zz::1', /not an IPv6 address/],
    ['host.example', /digits, dots/],
    ['1.2.3.4.5', /digits, dots|4 parts/],
    ['2001:db8::/129', /0 to 128/],
  ];
  for (const [input, reason] of cases) {
    assert.throws(
      () => parseIpPattern(input),
      (err: unknown) =>
        err instanceof UserError && reason.test(err.message) && err.message.includes(`'${input.trim()}'`),
      input,
    );
  }
});

test('a row is shown when either endpoint matches any pattern; no pattern shows all', () => {
  const ps = ['24.62.*', '2001:db8::/32'].map(parseIpPattern);
  assert.equal(matchesAny([], '1.1.1.1', '2.2.2.2'), true);
  assert.equal(matchesAny(ps, '192.168.1.2', '24.62.1.1'), true);
  assert.equal(matchesAny(ps, '2001:db8::9', '1.1.1.1'), true);
  assert.equal(matchesAny(ps, '192.168.1.2', '8.8.8.8'), false);
});

test('ipv4ToInt rejects what is not a dotted quad', () => {
  assert.equal(ipv4ToInt('1.2.3.4'), 0x01020304);
  assert.equal(ipv4ToInt('255.255.255.255'), 0xffffffff);
  for (const bad of ['1.2.3', '1.2.3.4.', '1..2.3', '1.2.3.256', '1234.1.1.1', 'a.b.c.d', ''])
    assert.equal(ipv4ToInt(bad), -1, bad);
});
