import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddr } from '../../src/capture/addr';
import { decodePacket, newDecodedPacket, newRawPacket } from '../../src/capture/decode';
import type { DecodedPacket, RawPacket } from '../../src/capture/types';
import {
  fragment,
  frameOf,
  ipv6Ext,
  TCP_ACK,
  TCP_FIN,
  tcpPacket,
  TracePacket,
  udpPacket,
} from '../../src/testkit/trace-writer';

/** Decodes one frame given directly (as the reader would hand it over), with an optional snaplen. */
function decode(
  frame: Buffer,
  linkType: number,
  snaplen = frame.length,
): { ok: boolean; d: DecodedPacket; raw: RawPacket } {
  const raw = newRawPacket();
  // Put the frame at an offset inside a larger buffer, as a view into a reader chunk is.
  const buf = Buffer.concat([Buffer.alloc(7, 0xee), frame.subarray(0, snaplen), Buffer.alloc(9, 0xee)]);
  Object.assign(raw, {
    buf,
    off: 7,
    capLen: Math.min(snaplen, frame.length),
    wireLen: frame.length,
    ts: 12.5,
    linkType,
  });
  const d = newDecodedPacket();
  return { ok: decodePacket(raw, d), d, raw };
}

function summary(d: DecodedPacket) {
  return {
    v: d.ipVersion,
    src: formatAddr(d.src, d.ipVersion),
    dst: formatAddr(d.des, d.ipVersion),
    proto: d.proto,
    sport: d.srcPort,
    dport: d.desPort,
    ipLen: d.ipLen,
    payloadLen: d.payloadLen,
    payloadCapLen: d.payloadCapLen,
    fragment: d.fragment,
  };
}

const udp4 = udpPacket({ src: '192.0.2.1', dst: '198.51.100.7', sport: 50000, dport: 3478, payloadLen: 1000, ts: 1 });
const udp6 = udpPacket({ src: '2001:db8::1', dst: 'fe80::a:b', sport: 9, dport: 19302, payloadLen: 300, ts: 1 });
const expect4 = {
  v: 4,
  src: '192.0.2.1',
  dst: '198.51.100.7',
  proto: 17,
  sport: 50000,
  dport: 3478,
  ipLen: 1028,
  payloadLen: 1000,
  payloadCapLen: 1000,
  fragment: false,
};
const expect6 = {
  v: 6,
  src: '2001:db8::1',
  dst: 'fe80::a:b',
  proto: 17,
  sport: 9,
  dport: 19302,
  ipLen: 348,
  payloadLen: 300,
  payloadCapLen: 300,
  fragment: false,
};

for (const [name, linkType, extraHdr] of [
  ['Ethernet', 1, 14],
  ['Linux cooked SLL', 113, 16],
  ['Linux cooked SLL2', 276, 20],
  ['raw IP (101)', 101, 0],
  ['BSD loopback (0)', 0, 4],
  ['OpenBSD loopback (108)', 108, 4],
] as const) {
  test(`decodes IPv4 and IPv6 UDP over ${name}`, () => {
    for (const [p, want] of [
      [udp4, expect4],
      [udp6, expect6],
    ] as const) {
      const frame = frameOf(p, linkType);
      const { ok, d } = decode(frame, linkType);
      assert.equal(ok, true);
      assert.deepEqual(summary(d), want);
      assert.equal(d.wireLen, want.ipLen + extraHdr);
      assert.equal(d.ts, 12.5);
      // The payload offset points at the payload bytes in the reader's buffer.
      assert.equal(d.buf[d.payloadOff], 0x5a);
      assert.equal(d.buf[d.payloadOff + d.payloadCapLen - 1], 0x5a);
    }
  });
}

test('raw IPv4 (228) and raw IPv6 (229) link types', () => {
  assert.deepEqual(summary(decode(udp4.ip!, 228).d), expect4);
  assert.deepEqual(summary(decode(udp6.ip!, 229).d), expect6);
});

test('BSD loopback: AF_INET6 as 24, 28, 30 (and Linux 10) in either byte order', () => {
  for (const af of [24, 28, 30, 10]) {
    for (const le of [true, false]) {
      const h = Buffer.alloc(4);
      if (le) h.writeUInt32LE(af);
      else h.writeUInt32BE(af);
      const { ok, d } = decode(Buffer.concat([h, udp6.ip!]), 0);
      assert.equal(ok, true, `af ${af} ${le ? 'LE' : 'BE'}`);
      assert.deepEqual(summary(d), expect6);
    }
  }
  const h = Buffer.alloc(4);
  h.writeUInt32BE(2);
  assert.deepEqual(summary(decode(Buffer.concat([h, udp4.ip!]), 108).d), expect4);
  h.writeUInt32LE(7); // AF_ISO: not IP
  assert.equal(decode(Buffer.concat([h, udp4.ip!]), 0).ok, false);
});

test('Ethernet with an 802.1Q tag, and QinQ (802.1ad outer + 802.1Q inner)', () => {
  for (const vlan of [[42], [100, 42], [1, 2, 3]]) {
    const frame = frameOf({ ...udp6, vlan }, 1);
    assert.equal(frame.length, 14 + 4 * vlan.length + 348);
    const { ok, d } = decode(frame, 1);
    assert.equal(ok, true);
    assert.deepEqual(summary(d), expect6);
  }
  // The pre-standard 0x9100 outer tag.
  const old = frameOf({ ...udp4, vlan: [5, 6] }, 1);
  old.writeUInt16BE(0x9100, 12);
  assert.deepEqual(summary(decode(old, 1).d), expect4);
});

test('Ethernet carrying PPPoE sessions (DSL) and MPLS label stacks', () => {
  const eth = frameOf(udp4, 1);
  const pppoe = Buffer.concat([
    eth.subarray(0, 12),
    Buffer.from('8864' + '1100' + '0001' + '0000' + '0021', 'hex'),
    udp4.ip!,
  ]);
  pppoe.writeUInt16BE(udp4.ip!.length + 2, 18);
  assert.deepEqual(summary(decode(pppoe, 1).d), expect4);
  const pppoe6 = Buffer.from(Buffer.concat([pppoe.subarray(0, 22), udp6.ip!]));
  pppoe6.writeUInt16BE(0x0057, 20);
  assert.deepEqual(summary(decode(pppoe6, 1).d), expect6);
  const lcp = Buffer.from(pppoe);
  lcp.writeUInt16BE(0xc021, 20);
  assert.equal(decode(lcp, 1).ok, false);
  // Two labels, the second with the bottom-of-stack bit, behind a VLAN tag.
  const mpls = Buffer.concat([
    eth.subarray(0, 12),
    Buffer.from('8100' + '0064' + '8847' + '00001040' + '00002140', 'hex'),
    udp6.ip!,
  ]);
  assert.deepEqual(summary(decode(mpls, 1).d), expect6);
  // A label stack that never ends within the capture.
  assert.equal(decode(mpls.subarray(0, 22), 1).ok, false);
});

test('non-IP frames (ARP, unknown link type) are not packets, and do not throw', () => {
  const arp = frameOf(udp4, 1);
  arp.writeUInt16BE(0x0806, 12);
  assert.equal(decode(arp, 1).ok, false);
  assert.equal(decode(frameOf(udp4, 1), 147).ok, false);
  // IP version nibble neither 4 nor 6 on a raw link.
  const bad = Buffer.from(udp4.ip!);
  bad[0] = 0x55;
  assert.equal(decode(bad, 101).ok, false);
});

test('IPv4 options move the transport header', () => {
  const opts = Buffer.from([0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00]); // router alert + NOPs + end
  const p = udpPacket({
    src: '10.1.1.1',
    dst: '10.2.2.2',
    sport: 1234,
    dport: 5678,
    payloadLen: 77,
    ts: 1,
    ipOptions: opts,
  });
  assert.equal(p.ip![0] & 15, 7);
  const { ok, d } = decode(frameOf(p, 1), 1);
  assert.equal(ok, true);
  assert.deepEqual([d.srcPort, d.desPort, d.ipLen, d.payloadLen], [1234, 5678, 28 + 8 + 77, 77]);
});

test('IPv4 fragments: the first keeps its ports; later ones are marked and never read as UDP', () => {
  // Payload bytes that would look like ports 0x5a5a if misread as a UDP header.
  const whole = udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5004, dport: 5006, payloadLen: 3000, ts: 1 });
  const frags = fragment(whole, 1480);
  assert.equal(frags.length, 3);
  const first = decode(frameOf(frags[0], 1), 1).d;
  assert.deepEqual(
    [first.fragment, first.srcPort, first.desPort, first.proto, first.payloadLen],
    [false, 5004, 5006, 17, 3000],
  );
  assert.equal(first.payloadCapLen, 1480 - 8);
  for (const f of frags.slice(1)) {
    const { ok, d } = decode(frameOf(f, 1), 1);
    assert.equal(ok, true);
    assert.deepEqual([d.fragment, d.srcPort, d.desPort, d.proto], [true, 0, 0, 17]);
    assert.equal(d.payloadLen, d.ipLen - 20);
  }
});

test('IPv6 extension headers (hop-by-hop, routing, destination options, AH) are walked to UDP/TCP', () => {
  const exts = [ipv6Ext(0), ipv6Ext(43, Buffer.alloc(14)), ipv6Ext(60), ipv6Ext(51, Buffer.alloc(22))];
  const p = tcpPacket({
    src: '2001:db8:1::5',
    dst: '2001:db8:2::6',
    sport: 443,
    dport: 61000,
    payloadLen: 200,
    ts: 1,
    flags: TCP_ACK | TCP_FIN,
    ipv6Ext: exts,
  });
  const extLen = exts.reduce((n, e) => n + e.bytes.length, 0);
  assert.equal(extLen, 8 + 16 + 8 + 24);
  const { ok, d } = decode(frameOf(p, 1), 1);
  assert.equal(ok, true);
  assert.deepEqual(
    [d.proto, d.srcPort, d.desPort, d.tcpFlags, d.payloadLen, d.ipLen],
    [6, 443, 61000, TCP_ACK | TCP_FIN, 200, 40 + extLen + 20 + 200],
  );
});

test('IPv6 fragment header: the first fragment keeps ports, later ones are marked', () => {
  const whole = udpPacket({
    src: '2001:db8::1',
    dst: '2001:db8::2',
    sport: 3478,
    dport: 3479,
    payloadLen: 2500,
    ts: 1,
    ipv6Ext: [ipv6Ext(0)],
  });
  const frags = fragment(whole, 1232);
  assert.equal(frags.length, 3);
  const first = decode(frameOf(frags[0], 1), 1).d;
  assert.deepEqual(
    [first.fragment, first.proto, first.srcPort, first.desPort, first.payloadLen],
    [false, 17, 3478, 3479, 2500],
  );
  for (const f of frags.slice(1)) {
    const d = decode(frameOf(f, 1), 1).d;
    assert.deepEqual([d.fragment, d.proto, d.srcPort, d.desPort], [true, 17, 0, 0]);
  }
});

test('an IPv6 non-first fragment is not walked further, even when its next header names an extension', () => {
  const whole = udpPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2, payloadLen: 600, ts: 1 });
  const later = fragment(whole, 304)[1];
  later.ip![40] = 60; // the fragment header says destination options follow (they are in the first fragment)
  later.ip!.fill(0xff, 48, 56); // a bogus "header length" that would run past the packet
  const d = decode(frameOf(later, 1), 1).d;
  assert.deepEqual([d.fragment, d.proto, d.srcPort, d.payloadLen], [true, 60, 0, d.ipLen - 48]);
});

test('snaplen 96 and 128: sizes come from the wire and IP lengths, payloadCapLen from what was kept', () => {
  for (const snaplen of [96, 128]) {
    for (const [p, hdr] of [
      [udp4, 28],
      [udp6, 48],
    ] as const) {
      const frame = frameOf({ ...p, vlan: [7] }, 1);
      const { ok, d } = decode(frame, 1, snaplen);
      assert.equal(ok, true);
      const ipLen = p === udp4 ? 1028 : 348;
      assert.deepEqual(
        [d.wireLen, d.ipLen, d.payloadLen, d.srcPort],
        [frame.length, ipLen, ipLen - hdr, p === udp4 ? 50000 : 9],
      );
      assert.equal(d.payloadCapLen, snaplen - 18 - hdr);
    }
  }
  // Cut inside the TCP header: ports survive when their bytes are there, flags when theirs are; sizes are still known.
  const t = frameOf(
    tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payloadLen: 500, ts: 1, flags: TCP_ACK }),
    1,
  );
  const cut10 = decode(t, 1, 14 + 20 + 10).d;
  assert.deepEqual(
    [cut10.proto, cut10.srcPort, cut10.desPort, cut10.tcpFlags, cut10.ipLen, cut10.payloadLen, cut10.payloadCapLen],
    [6, 1, 2, 0, 540, 500, 0],
  );
  const cut3 = decode(t, 1, 14 + 20 + 3).d;
  assert.deepEqual([cut3.srcPort, cut3.desPort, cut3.payloadLen], [0, 0, 500]);
  const cut14 = decode(t, 1, 14 + 20 + 14).d;
  assert.equal(cut14.tcpFlags, TCP_ACK);
});

test('IP total length 0 (segmentation offload on the sender) falls back to the frame length', () => {
  const big = tcpPacket({ src: '127.0.0.1', dst: '127.0.0.1', sport: 5, dport: 6, payloadLen: 30000, ts: 1 });
  const frame = frameOf(big, 1);
  frame.writeUInt16BE(0, 14 + 2);
  const { d } = decode(frame, 1, 128);
  assert.deepEqual([d.ipLen, d.payloadLen], [30040, 30000]);
});

test('Ethernet padding is not payload', () => {
  const tiny = udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 1, dport: 2, payloadLen: 2, ts: 1 });
  const frame = Buffer.concat([frameOf(tiny, 1), Buffer.alloc(16, 0xab)]); // padded to 60 bytes
  const { d } = decode(frame, 1);
  assert.deepEqual([d.wireLen, d.ipLen, d.payloadLen, d.payloadCapLen], [60, 30, 2, 2]);
});

test('every truncation of every kind of frame decodes without throwing', () => {
  const pkts: TracePacket[] = [
    udp4,
    udp6,
    fragment(udp4, 504)[1],
    tcpPacket({ src: '::1', dst: '::2', sport: 1, dport: 2, ts: 1, ipv6Ext: [ipv6Ext(0), ipv6Ext(60)] }),
  ];
  let decoded = 0;
  for (const p of pkts) {
    for (const lt of [0, 1, 101, 108, 113, 276]) {
      const frame = frameOf({ ...p, vlan: [3] }, lt);
      for (let cut = 0; cut <= Math.min(frame.length, 120); cut++) {
        const { ok, d } = decode(frame, lt, cut);
        if (ok) {
          decoded++;
          assert.ok(
            d.payloadCapLen === 0 || (d.payloadCapLen > 0 && d.payloadOff + d.payloadCapLen <= 7 + cut),
            `lt ${lt} cut ${cut}`,
          );
        }
      }
    }
  }
  assert.ok(decoded > 1000);
});
