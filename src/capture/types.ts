/**
 * What the capture stage hands to the flow stage. One DecodedPacket object is reused for every
 * packet (the per-packet path must not allocate): consumers copy what they keep.
 */

/** libpcap LINKTYPE_* values we decode. */
export const LINKTYPE_NULL = 0;
export const LINKTYPE_ETHERNET = 1;
export const LINKTYPE_RAW = 101;
export const LINKTYPE_LOOP = 108;
export const LINKTYPE_LINUX_SLL = 113;
export const LINKTYPE_IPV4 = 228;
export const LINKTYPE_IPV6 = 229;
export const LINKTYPE_LINUX_SLL2 = 276;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** A captured frame as the trace reader (or live capture) sees it. `buf` is only valid until the next packet. */
export interface RawPacket {
  buf: Buffer;
  /** offset of the frame's first byte in buf */
  off: number;
  /** bytes captured (may be less than wireLen with a snaplen) */
  capLen: number;
  /** original length on the wire: sizes and byte counts use this */
  wireLen: number;
  /** UNIX epoch seconds (fractional, µs precision or better) */
  ts: number;
  linkType: number;
}

/**
 * A decoded IP packet. Addresses are kept as four 32-bit words (IPv4: a[0]=address, a[1..3]=0)
 * so the flow table can hash and compare them without building strings.
 */
export interface DecodedPacket {
  ts: number;
  /** frame length on the wire (what tshark's conversation bytes count) */
  wireLen: number;
  /** IP packet length from the IP header (IPv4 total length; IPv6 payload length + 40): link-independent size used by features */
  ipLen: number;
  ipVersion: 4 | 6;
  /** IP protocol number of the transport (after IPv6 extension headers) */
  proto: number;
  src: Uint32Array;
  des: Uint32Array;
  /** 0 when not UDP/TCP or a non-first fragment */
  srcPort: number;
  desPort: number;
  /** TCP flags byte, 0 for UDP */
  tcpFlags: number;
  /** true for IPv4/IPv6 fragments other than the first: ports are unknown */
  fragment: boolean;
  /** transport payload: buf[payloadOff, payloadOff+payloadCapLen) is what was captured of it */
  buf: Buffer;
  payloadOff: number;
  payloadCapLen: number;
  /** transport payload length on the wire (from the IP/UDP lengths) */
  payloadLen: number;
}

/**
 * A trace's packets, from a file or stdin. A gzip-compressed trace is inflated asynchronously, so
 * a reader drains what is ready and then awaits more():
 *
 *   do { while (source.next(raw)) use(raw); } while (await source.more());
 */
export interface PacketSource {
  /** Fills `out` with the next packet and returns true; false when there is none now (see more()). */
  next(out: RawPacket): boolean;
  /** After next() returned false: resolves true once next() may give packets again, false at the end of the source. */
  more(): Promise<boolean>;
  /** Problems that did not stop reading (a cut-off tail): one line each, for a warning. */
  readonly warnings: string[];
  close(): void;
}
