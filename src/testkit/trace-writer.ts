/**
 * Writes REAL trace bytes for tests: pcap and pcapng files that tcpdump and tshark read.
 *
 *   const pkts = [
 *     udpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 5000, dport: 6000, payloadLen: 900, ts: 1700000000.5 }),
 *     udpPacket({ src: '2001:db8::1', dst: '2001:db8::2', sport: 1, dport: 2, payload: Buffer.from('hi'), ts: 1700000000.6, vlan: [10] }),
 *     tcpPacket({ src: '10.0.0.1', dst: '10.0.0.2', sport: 40000, dport: 443, flags: TCP_SYN, ts: 1700000001 }),
 *   ];
 *   writePcap('/tmp/x.pcap', pkts);                                   // Ethernet, µs, little-endian
 *   writePcap('/tmp/y.pcap', pkts, { linkType: 113, resolution: 'ns', byteOrder: 'be', snaplen: 96 });
 *   writePcapng('/tmp/z.pcapng', pkts.map((p, i) => ({ ...p, iface: i % 2 })),
 *     { interfaces: [{ linkType: 1 }, { linkType: 276, tsresol: 9 }] });
 *
 * Builders (udpPacket, tcpPacket, ipPacket; ipv6Ext for IPv6 extension headers; fragment() to split
 * a packet into IPv4/IPv6 fragments) return an IP packet (`ip`) plus framing hints; the writer adds the link header of the
 * interface's link type (Ethernet with the packet's VLAN tags, SLL, SLL2, raw, BSD loopback).
 * A packet with `frame` set is written as is (for damaged or non-IP frames).
 * The IP version follows the addresses. IPv4 header, UDP and TCP checksums are correct.
 * With a snaplen, frames are cut but keep their original length, as tcpdump -s does.
 * pcapBytes()/pcapngBytes() return the bytes instead of writing them (to concatenate sections,
 * damage them, or gzip them).
 */
import * as fs from 'fs';

export interface TracePacket {
  /** epoch seconds */
  ts: number;
  /** the IP packet (IPv4 or IPv6), framed by the writer */
  ip?: Buffer;
  /** a complete link-layer frame, written as is */
  frame?: Buffer;
  /** 802.1Q tags (VLAN IDs), outermost first; Ethernet only */
  vlan?: number[];
  /** pcapng interface index (default 0) */
  iface?: number;
  /** original length on the wire, when it should differ from the frame's length */
  origLen?: number;
}

export interface PcapOptions {
  linkType?: number;
  byteOrder?: 'le' | 'be';
  resolution?: 'us' | 'ns';
  snaplen?: number;
}

export interface PcapngInterface {
  linkType: number;
  /** if_tsresol byte: n = 10^-n s, 0x80|n = 2^-n s; omitted = µs (and no option written) */
  tsresol?: number;
  snaplen?: number;
  /** if_tsoffset in seconds */
  tsoffset?: number;
}

export interface PcapngOptions {
  byteOrder?: 'le' | 'be';
  interfaces?: PcapngInterface[];
  /** write simple packet blocks (no timestamps, interface 0 only) instead of enhanced ones */
  simple?: boolean;
}

export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;

interface IpOpts {
  src: string;
  dst: string;
  ts: number;
  vlan?: number[];
  /** must agree with the addresses when given */
  ipv6?: boolean;
  ttl?: number;
  /** IPv4 options (padded to 4 bytes) */
  ipOptions?: Buffer;
  /** IPv6 extension headers to put before the transport: [next-header number, body] pairs are built by ipv6Ext() */
  ipv6Ext?: Array<{ type: number; bytes: Buffer }>;
  iface?: number;
}

export interface UdpOpts extends IpOpts {
  sport: number;
  dport: number;
  payload?: Buffer;
  payloadLen?: number;
}

export interface TcpOpts extends UdpOpts {
  flags?: number;
  seq?: number;
  ack?: number;
}

export function udpPacket(o: UdpOpts): TracePacket {
  const payload = o.payload ?? Buffer.alloc(o.payloadLen ?? 0, 0x5a);
  const udp = Buffer.alloc(8 + payload.length);
  udp.writeUInt16BE(o.sport, 0);
  udp.writeUInt16BE(o.dport, 2);
  udp.writeUInt16BE(udp.length, 4);
  payload.copy(udp, 8);
  return ipPacket(o, 17, udp);
}

export function tcpPacket(o: TcpOpts): TracePacket {
  const payload = o.payload ?? Buffer.alloc(o.payloadLen ?? 0, 0x5a);
  const tcp = Buffer.alloc(20 + payload.length);
  tcp.writeUInt16BE(o.sport, 0);
  tcp.writeUInt16BE(o.dport, 2);
  tcp.writeUInt32BE(o.seq ?? 1, 4);
  tcp.writeUInt32BE(o.ack ?? 0, 8);
  tcp[12] = 5 << 4;
  tcp[13] = o.flags ?? TCP_ACK;
  tcp.writeUInt16BE(65535, 14);
  payload.copy(tcp, 20);
  return ipPacket(o, 6, tcp);
}

/** An IPv6 extension header of `type` (0, 43, 60: 8-byte units; 44 fragment; 51 AH) with `body` after its first two bytes. */
export function ipv6Ext(type: number, body: Buffer = Buffer.alloc(6)): { type: number; bytes: Buffer } {
  const len = type === 44 ? 8 : Math.ceil((body.length + 2) / 8) * 8;
  const bytes = Buffer.alloc(len);
  body.copy(bytes, 2);
  bytes[1] = type === 44 ? 0 : type === 51 ? len / 4 - 2 : len / 8 - 1;
  return { type, bytes };
}

/** Wraps a transport segment (proto, bytes with zero checksum) in IPv4 or IPv6; fills the checksums. */
export function ipPacket(o: IpOpts, proto: number, l4: Buffer): TracePacket {
  const v6 = o.src.includes(':');
  if (o.ipv6 !== undefined && o.ipv6 !== v6) throw new Error(`ipv6: ${o.ipv6} does not match address ${o.src}`);
  const src = addrBytes(o.src);
  const dst = addrBytes(o.dst);
  fillTransportChecksum(proto, l4, src, dst);
  let ip: Buffer;
  if (!v6) {
    const opts = o.ipOptions ? padTo4(o.ipOptions) : Buffer.alloc(0);
    const hl = 20 + opts.length;
    ip = Buffer.alloc(hl + l4.length);
    ip[0] = 0x40 | (hl / 4);
    ip.writeUInt16BE(ip.length, 2);
    ip.writeUInt16BE(1, 4);
    ip.writeUInt16BE(0x4000, 6); // don't fragment
    ip[8] = o.ttl ?? 64;
    ip[9] = proto;
    src.copy(ip, 12);
    dst.copy(ip, 16);
    opts.copy(ip, 20);
    ip.writeUInt16BE(checksum(ip.subarray(0, hl), 0), 10);
    l4.copy(ip, hl);
  } else {
    const exts = o.ipv6Ext ?? [];
    const extLen = exts.reduce((n, e) => n + e.bytes.length, 0);
    ip = Buffer.alloc(40 + extLen + l4.length);
    ip[0] = 0x60;
    ip.writeUInt16BE(ip.length - 40, 4);
    ip[6] = exts.length ? exts[0].type : proto;
    ip[7] = o.ttl ?? 64;
    src.copy(ip, 8);
    dst.copy(ip, 24);
    let q = 40;
    exts.forEach((e, i) => {
      e.bytes.copy(ip, q);
      ip[q] = i + 1 < exts.length ? exts[i + 1].type : proto;
      q += e.bytes.length;
    });
    l4.copy(ip, q);
  }
  return { ts: o.ts, ip, vlan: o.vlan, iface: o.iface };
}

/**
 * Splits an IP packet into fragments carrying at most `size` bytes of its payload each
 * (a multiple of 8): IPv4 by its header fields, IPv6 with a fragment header after the
 * extension headers the packet had.
 */
export function fragment(p: TracePacket, size: number, id = 0x1234): TracePacket[] {
  const ip = p.ip!;
  const v6 = ip[0] >> 4 === 6;
  let hl: number;
  let proto: number;
  if (v6) {
    hl = 40;
    proto = ip[6];
    let nextAt = 6;
    while (proto === 0 || proto === 43 || proto === 60) {
      nextAt = hl;
      proto = ip[hl];
      hl += (ip[hl + 1] + 1) * 8;
    }
    const out: TracePacket[] = [];
    for (let off = hl; off < ip.length; off += size) {
      const chunk = ip.subarray(off, Math.min(ip.length, off + size));
      const head = Buffer.from(ip.subarray(0, hl));
      head[nextAt] = 44;
      const fh = Buffer.alloc(8);
      fh[0] = proto;
      fh.writeUInt16BE(((off - hl) & ~7) | (off + size < ip.length ? 1 : 0), 2);
      fh.writeUInt32BE(id, 4);
      const f = Buffer.concat([head, fh, chunk]);
      f.writeUInt16BE(f.length - 40, 4);
      out.push({ ...p, ip: f });
    }
    return out;
  }
  hl = (ip[0] & 15) * 4;
  const out: TracePacket[] = [];
  for (let off = hl; off < ip.length; off += size) {
    const chunk = ip.subarray(off, Math.min(ip.length, off + size));
    const f = Buffer.concat([ip.subarray(0, hl), chunk]);
    f.writeUInt16BE(f.length, 2);
    f.writeUInt16BE(id, 4);
    f.writeUInt16BE((off + size < ip.length ? 0x2000 : 0) | ((off - hl) / 8), 6);
    f.writeUInt16BE(0, 10);
    f.writeUInt16BE(checksum(f.subarray(0, hl), 0), 10);
    out.push({ ...p, ip: f });
  }
  return out;
}

/** The bytes of a classic pcap file. */
export function pcapBytes(packets: TracePacket[], opts: PcapOptions = {}): Buffer {
  const le = (opts.byteOrder ?? 'le') === 'le';
  const ns = opts.resolution === 'ns';
  const linkType = opts.linkType ?? 1;
  const snaplen = opts.snaplen ?? 262144;
  const parts: Buffer[] = [];
  const h = Buffer.alloc(24);
  w32(h, 0, ns ? 0xa1b23c4d : 0xa1b2c3d4, le);
  w16(h, 4, 2, le);
  w16(h, 6, 4, le);
  w32(h, 16, snaplen, le);
  w32(h, 20, linkType, le);
  parts.push(h);
  for (const p of packets) {
    const frame = frameOf(p, linkType);
    const cap = frame.subarray(0, Math.min(frame.length, snaplen));
    const r = Buffer.alloc(16);
    const [sec, frac] = splitTs(p.ts, ns ? 1e9 : 1e6);
    w32(r, 0, sec, le);
    w32(r, 4, frac, le);
    w32(r, 8, cap.length, le);
    w32(r, 12, p.origLen ?? frame.length, le);
    parts.push(r, cap);
  }
  return Buffer.concat(parts);
}

/** The bytes of one pcapng section (concatenate several for a multi-section file). */
export function pcapngBytes(packets: TracePacket[], opts: PcapngOptions = {}): Buffer {
  const le = (opts.byteOrder ?? 'le') === 'le';
  const ifaces = opts.interfaces ?? [{ linkType: 1 }];
  const shb = Buffer.alloc(16);
  w32(shb, 0, 0x1a2b3c4d, le);
  w16(shb, 4, 1, le);
  w16(shb, 6, 0, le);
  shb.fill(0xff, 8, 16); // section length unknown (-1)
  const parts = [pcapngBlock(0x0a0d0d0a, shb, le)];
  for (const itf of ifaces) {
    const body: Buffer[] = [Buffer.alloc(8)];
    w16(body[0], 0, itf.linkType, le);
    w32(body[0], 4, itf.snaplen ?? 262144, le);
    if (itf.tsresol !== undefined) body.push(option(9, Buffer.from([itf.tsresol]), le));
    if (itf.tsoffset !== undefined) {
      const v = Buffer.alloc(8);
      if (le) v.writeBigInt64LE(BigInt(itf.tsoffset));
      else v.writeBigInt64BE(BigInt(itf.tsoffset));
      body.push(option(14, v, le));
    }
    if (body.length > 1) body.push(Buffer.alloc(4)); // opt_endofopt
    parts.push(pcapngBlock(1, Buffer.concat(body), le));
  }
  for (const p of packets) {
    const i = p.iface ?? 0;
    const itf = ifaces[i];
    if (!itf) throw new Error(`packet on interface ${i}, but only ${ifaces.length} interfaces`);
    const frame = frameOf(p, itf.linkType);
    const cap = frame.subarray(0, Math.min(frame.length, itf.snaplen ?? 262144));
    const data = padTo4(cap);
    if (opts.simple) {
      const hdr = Buffer.alloc(4);
      w32(hdr, 0, p.origLen ?? frame.length, le);
      parts.push(pcapngBlock(3, Buffer.concat([hdr, data]), le));
      continue;
    }
    const hdr = Buffer.alloc(20);
    const units = tsUnits(p.ts - (itf.tsoffset ?? 0), itf.tsresol ?? 6);
    w32(hdr, 0, i, le);
    w32(hdr, 4, Number(units >> 32n), le);
    w32(hdr, 8, Number(units & 0xffffffffn), le);
    w32(hdr, 12, cap.length, le);
    w32(hdr, 16, p.origLen ?? frame.length, le);
    parts.push(pcapngBlock(6, Buffer.concat([hdr, data]), le));
  }
  return Buffer.concat(parts);
}

/** A pcapng block: type, total length, body (padded to 4), total length again. */
export function pcapngBlock(type: number, body: Buffer, le = true): Buffer {
  const padded = padTo4(body);
  const b = Buffer.alloc(12 + padded.length);
  w32(b, 0, type, le);
  w32(b, 4, b.length, le);
  padded.copy(b, 8);
  w32(b, b.length - 4, b.length, le);
  return b;
}

export function writePcap(path: string, packets: TracePacket[], opts: PcapOptions = {}): void {
  fs.writeFileSync(path, pcapBytes(packets, opts));
}

export function writePcapng(path: string, packets: TracePacket[], opts: PcapngOptions = {}): void {
  fs.writeFileSync(path, pcapngBytes(packets, opts));
}

/** The link-layer frame of a packet for a link type. */
export function frameOf(p: TracePacket, linkType: number): Buffer {
  if (p.frame) return p.frame;
  if (!p.ip) throw new Error('a TracePacket needs ip or frame');
  const ip = p.ip;
  const v6 = ip[0] >> 4 === 6;
  const etype = v6 ? 0x86dd : 0x0800;
  switch (linkType) {
    case 1: {
      const tags = p.vlan ?? [];
      const h = Buffer.alloc(14 + 4 * tags.length);
      Buffer.from('020000000002020000000001', 'hex').copy(h, 0);
      tags.forEach((id, i) => {
        h.writeUInt16BE(i === 0 && tags.length > 1 ? 0x88a8 : 0x8100, 12 + 4 * i);
        h.writeUInt16BE(id & 0xfff, 14 + 4 * i);
      });
      h.writeUInt16BE(etype, 12 + 4 * tags.length);
      return Buffer.concat([h, ip]);
    }
    case 113: {
      const h = Buffer.alloc(16);
      h.writeUInt16BE(0, 0); // sent to us
      h.writeUInt16BE(1, 2); // ARPHRD_ETHER
      h.writeUInt16BE(6, 4);
      Buffer.from('020000000001', 'hex').copy(h, 6);
      h.writeUInt16BE(etype, 14);
      return Buffer.concat([h, ip]);
    }
    case 276: {
      const h = Buffer.alloc(20);
      h.writeUInt16BE(etype, 0);
      h.writeUInt32BE(1, 4); // interface index
      h.writeUInt16BE(1, 8); // ARPHRD_ETHER
      h[10] = 0; // to us
      h[11] = 6;
      Buffer.from('020000000001', 'hex').copy(h, 12);
      return Buffer.concat([h, ip]);
    }
    case 101:
    case 228:
    case 229:
      return ip;
    case 0: {
      const h = Buffer.alloc(4);
      h.writeUInt32LE(v6 ? 30 : 2, 0); // as a little-endian macOS host writes it
      return Buffer.concat([h, ip]);
    }
    case 108: {
      const h = Buffer.alloc(4);
      h.writeUInt32BE(v6 ? 24 : 2, 0);
      return Buffer.concat([h, ip]);
    }
    default:
      throw new Error(`trace-writer cannot frame link type ${linkType}; pass frame instead`);
  }
}

function addrBytes(s: string): Buffer {
  if (!s.includes(':')) return Buffer.from(s.split('.').map(Number));
  const [head, tail] = s.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = s.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), 2 * i));
  return b;
}

function fillTransportChecksum(proto: number, l4: Buffer, src: Buffer, dst: Buffer): void {
  const at = proto === 17 ? 6 : proto === 6 ? 16 : -1;
  if (at < 0) return;
  const pseudo = Buffer.alloc(src.length * 2 + 8);
  src.copy(pseudo, 0);
  dst.copy(pseudo, src.length);
  if (src.length === 4) {
    pseudo[9] = proto;
    pseudo.writeUInt16BE(l4.length, 10);
  } else {
    pseudo.writeUInt32BE(l4.length, 32);
    pseudo[39] = proto;
  }
  const c = checksum(l4, sum16(pseudo.subarray(0, src.length === 4 ? 12 : 40)));
  l4.writeUInt16BE(proto === 17 && c === 0 ? 0xffff : c, at);
}

function sum16(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i + 1 < b.length; i += 2) s += (b[i] << 8) | b[i + 1];
  if (b.length % 2) s += b[b.length - 1] << 8;
  return s;
}

function checksum(b: Uint8Array, initial: number): number {
  let s = initial + sum16(b);
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

function padTo4(b: Uint8Array): Buffer {
  return Buffer.concat([b, Buffer.alloc((4 - (b.length % 4)) % 4)]);
}

function option(code: number, value: Buffer, le: boolean): Buffer {
  const h = Buffer.alloc(4);
  w16(h, 0, code, le);
  w16(h, 2, value.length, le);
  return Buffer.concat([h, padTo4(value)]);
}

function splitTs(ts: number, perSec: number): [number, number] {
  let sec = Math.floor(ts);
  let frac = Math.round((ts - sec) * perSec);
  if (frac >= perSec) {
    sec++;
    frac -= perSec;
  }
  return [sec, frac];
}

function tsUnits(ts: number, tsresol: number): bigint {
  const perSec = tsresol & 0x80 ? 2 ** (tsresol & 0x7f) : 10 ** tsresol;
  const [sec, frac] = splitTs(ts, perSec);
  return BigInt(sec) * BigInt(perSec) + BigInt(frac);
}

function w16(b: Buffer, off: number, v: number, le: boolean): void {
  if (le) b.writeUInt16LE(v, off);
  else b.writeUInt16BE(v, off);
}

function w32(b: Buffer, off: number, v: number, le: boolean): void {
  if (le) b.writeUInt32LE(v >>> 0, off);
  else b.writeUInt32BE(v >>> 0, off);
}
