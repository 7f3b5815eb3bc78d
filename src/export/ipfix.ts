/**
 * IPFIX messages (RFC 7011) for spymate's call records: one template per address family, each data
 * record the standard information elements of a flow (5-tuple, start and end in ms, packet and
 * octet delta counts, flowEndReason) plus spymate's own, under a private enterprise
 * number. RFC 5610 type records go with the templates, so collectors that read them (libfixbuf's
 * ipfixDump --rfc5610, SiLK) show our elements by name and type; the others skip them by length.
 * docs/many-hosts.md lists the elements.
 */
import { parseAddr } from '../capture/addr';

/**
 * RFC 5612's enterprise number for documentation: a placeholder on the wire until spymate has a
 * number of its own from IANA. --ipfix-pen sets another (an operator's own number).
 */
export const DEFAULT_PEN = 32473;

/** flowEndReason (IANA IE 136) values */
export const END_IDLE = 1;
export const END_ACTIVE = 2;
export const END_DETECTED = 3;
export const END_FORCED = 4;
export const END_RESOURCES = 5;

/** One call's report for one interval (or its end): what a data record carries. */
export interface IpfixRecord {
  srcIP: string;
  desIP: string;
  srcPort: number;
  desPort: number;
  /** IP protocol number: 17 UDP, 6 TCP */
  protocol: number;
  startMs: number;
  endMs: number;
  packets: number;
  octets: number;
  endReason: number;
  /** spymate's flowID */
  flowId: string;
  app: string;
  presence: string;
  /** P(person); null = no model (sent as NaN) */
  probability: number | null;
  /** 0..100 */
  callCertainty: number;
  cameraOff: boolean;
}

/** IANA abstract data types (RFC 7012) and semantics (RFC 5610) used below */
const TYPE = { unsigned8: 1, unsigned16: 2, unsigned32: 3, unsigned64: 4, float64: 10, boolean: 11, string: 13 };
const SEMANTICS = { default: 0, quantity: 1, identifier: 4 };
const VARIABLE = 0xffff;

interface Element {
  id: number;
  length: number;
  /** enterprise-specific: described by a type record */
  own?: { name: string; type: number; semantics: number; rangeEnd: number; description: string };
}

/** spymate's own elements (enterprise-specific, numbered under the PEN) */
export const OWN_ELEMENTS: readonly Element[] = [
  {
    id: 1,
    length: VARIABLE,
    own: {
      name: 'spymateApp',
      type: TYPE.string,
      semantics: SEMANTICS.default,
      rangeEnd: 0,
      description: 'call app: the rule that picked the flow (zoom, teams, meet, webrtc, ...)',
    },
  },
  {
    id: 2,
    length: VARIABLE,
    own: {
      name: 'spymatePresence',
      type: TYPE.string,
      semantics: SEMANTICS.default,
      rangeEnd: 0,
      description: 'person, background, camera-off or unknown: the prediction for the last window',
    },
  },
  {
    id: 3,
    length: 8,
    own: {
      name: 'spymatePresenceProbability',
      type: TYPE.float64,
      semantics: SEMANTICS.quantity,
      rangeEnd: 0,
      description: 'P(person) of the last prediction, 0..1; NaN without a model',
    },
  },
  {
    id: 4,
    length: 1,
    own: {
      name: 'spymateCallCertainty',
      type: TYPE.unsigned8,
      semantics: SEMANTICS.quantity,
      rangeEnd: 100,
      description: 'certainty that the flow is a call, percent (rule hits 100)',
    },
  },
  {
    id: 6,
    length: VARIABLE,
    own: {
      name: 'spymateFlowId',
      type: TYPE.string,
      semantics: SEMANTICS.identifier,
      rangeEnd: 0,
      description: "spymate's flow ID: flowID in NDJSON, flow_id in the databases",
    },
  },
  {
    id: 5,
    length: 1,
    own: {
      name: 'spymateCameraOff',
      type: TYPE.boolean,
      semantics: SEMANTICS.default,
      rangeEnd: 0,
      description: 'the local side sends audio but no video',
    },
  },
];

function standard(v6: boolean): Element[] {
  return [
    { id: v6 ? 27 : 8, length: v6 ? 16 : 4 }, // sourceIPv6Address / sourceIPv4Address
    { id: v6 ? 28 : 12, length: v6 ? 16 : 4 }, // destinationIPv6Address / destinationIPv4Address
    { id: 7, length: 2 }, // sourceTransportPort
    { id: 11, length: 2 }, // destinationTransportPort
    { id: 4, length: 1 }, // protocolIdentifier
    { id: 152, length: 8 }, // flowStartMilliseconds
    { id: 153, length: 8 }, // flowEndMilliseconds
    { id: 2, length: 8 }, // packetDeltaCount
    { id: 1, length: 8 }, // octetDeltaCount
    { id: 136, length: 1 }, // flowEndReason
    // not flowId (148): nfdump takes a record with it for a firewall (NSEL) event; ours is spymateFlowId
  ];
}

const TEMPLATE_V4 = 256;
const TEMPLATE_V6 = 257;
const TEMPLATE_TYPES = 258;
/** RFC 5610 information element type record: scope PEN + element id, then its description */
const TYPE_RECORD: Element[] = [
  { id: 346, length: 4 }, // privateEnterpriseNumber (scope)
  { id: 303, length: 2 }, // informationElementId (scope)
  { id: 339, length: 1 }, // informationElementDataType
  { id: 344, length: 1 }, // informationElementSemantics
  { id: 345, length: 2 }, // informationElementUnits
  { id: 342, length: 8 }, // informationElementRangeBegin
  { id: 343, length: 8 }, // informationElementRangeEnd
  { id: 341, length: VARIABLE }, // informationElementName
  { id: 340, length: VARIABLE }, // informationElementDescription
];

const HEADER = 16;
const SET_HEADER = 4;

/** A growing byte buffer for one message. */
class Bytes {
  buf: Buffer;
  pos = 0;
  constructor(size: number) {
    this.buf = Buffer.alloc(size);
  }
  u8(v: number): void {
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.buf.writeUInt16BE(v, this.pos);
    this.pos += 2;
  }
  u32(v: number): void {
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  u64(v: number): void {
    const hi = Math.floor(v / 0x100000000);
    this.u32(hi);
    this.u32(v - hi * 0x100000000);
  }
  f64(v: number): void {
    this.buf.writeDoubleBE(v, this.pos);
    this.pos += 8;
  }
  /** RFC 7011 7: variable length, one length octet below 255 */
  varString(s: string): void {
    const b = Buffer.from(s, 'utf8');
    if (b.length < 255) this.u8(b.length);
    else {
      this.u8(255);
      this.u16(b.length);
    }
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }
  words(w: Uint32Array, n: number): void {
    for (let i = 0; i < n; i++) this.u32(w[i]);
  }
}

function varSize(s: string): number {
  const n = Buffer.byteLength(s, 'utf8');
  return n < 255 ? 1 + n : 3 + n;
}

/**
 * Builds IPFIX messages for one Transport Session: sequence numbers count the data records sent
 * before each message (RFC 7011 3.1); a new session (a TCP reconnect) starts again at reset().
 */
export class IpfixEncoder {
  private seq = 0;

  constructor(
    private readonly pen: number,
    private readonly domain: number,
    /** largest message: a datagram that needs no IP fragments, or more over TCP */
    private readonly maxMessage: number,
  ) {}

  reset(): void {
    this.seq = 0;
  }

  private message(sets: Buffer, records: number, exportS: number): Buffer {
    const b = new Bytes(HEADER);
    b.u16(10);
    b.u16(HEADER + sets.length);
    b.u32(Math.floor(exportS));
    b.u32(this.seq);
    b.u32(this.domain);
    this.seq = (this.seq + records) % 0x100000000;
    return Buffer.concat([b.buf, sets]);
  }

  private fieldSpecs(b: Bytes, elements: readonly Element[]): void {
    for (const e of elements) {
      if (e.own) {
        b.u16(0x8000 | e.id);
        b.u16(e.length);
        b.u32(this.pen);
      } else {
        b.u16(e.id);
        b.u16(e.length);
      }
    }
  }

  /** One message: the type records' options template and the type records, then both data templates. */
  templates(exportS: number): Buffer {
    const t = new Bytes(4096);
    // the type records first: a collector names our elements before it reads the templates that use them
    const optStart = t.pos;
    t.u16(3); // options template set
    t.u16(0);
    t.u16(TEMPLATE_TYPES);
    t.u16(TYPE_RECORD.length);
    t.u16(2); // scope fields
    this.fieldSpecs(t, TYPE_RECORD);
    t.buf.writeUInt16BE(t.pos - optStart, optStart + 2);
    const dataStart = t.pos;
    t.u16(TEMPLATE_TYPES);
    t.u16(0);
    for (const e of OWN_ELEMENTS) {
      const d = e.own!;
      t.u32(this.pen);
      t.u16(e.id);
      t.u8(d.type);
      t.u8(d.semantics);
      t.u16(0); // units: none
      t.u64(0);
      t.u64(d.rangeEnd);
      t.varString(d.name);
      t.varString(d.description);
    }
    t.buf.writeUInt16BE(t.pos - dataStart, dataStart + 2);
    const setStart = t.pos;
    t.u16(2); // template set
    t.u16(0);
    for (const [id, v6] of [
      [TEMPLATE_V4, false],
      [TEMPLATE_V6, true],
    ] as const) {
      const elements = [...standard(v6), ...OWN_ELEMENTS];
      t.u16(id);
      t.u16(elements.length);
      this.fieldSpecs(t, elements);
    }
    t.buf.writeUInt16BE(t.pos - setStart, setStart + 2);
    return this.message(t.buf.subarray(0, t.pos), OWN_ELEMENTS.length, exportS);
  }

  /** Data messages holding `records`, each within the size limit, with the number of records in each. */
  data(records: readonly IpfixRecord[], exportS: number): Array<{ message: Buffer; records: number }> {
    const out: Array<{ message: Buffer; records: number }> = [];
    let b = new Bytes(this.maxMessage);
    let n = 0;
    let setStart = -1;
    let setTemplate = -1;
    const closeSet = (): void => {
      if (setStart >= 0) b.buf.writeUInt16BE(b.pos - setStart, setStart + 2);
      setStart = -1;
    };
    const flush = (): void => {
      closeSet();
      if (n > 0) out.push({ message: this.message(Buffer.from(b.buf.subarray(0, b.pos)), n, exportS), records: n });
      b = new Bytes(this.maxMessage);
      n = 0;
      setTemplate = -1;
    };
    for (const r of records) {
      const src = parseAddr(r.srcIP);
      const des = parseAddr(r.desIP);
      if (!src || !des) continue;
      const v6 = src.version === 6 || des.version === 6;
      const template = v6 ? TEMPLATE_V6 : TEMPLATE_V4;
      const size =
        (v6 ? 32 : 8) +
        2 +
        2 +
        1 +
        8 +
        8 +
        8 +
        8 +
        1 +
        varSize(r.app) +
        varSize(r.presence) +
        8 +
        1 +
        varSize(r.flowId) +
        1;
      if (HEADER + b.pos + (template === setTemplate ? 0 : SET_HEADER) + size > this.maxMessage) flush();
      if (template !== setTemplate) {
        closeSet();
        setStart = b.pos;
        setTemplate = template;
        b.u16(template);
        b.u16(0);
      }
      if (v6) {
        // an IPv4 peer of an IPv6 flow (never seen in one flow, but safe) as ::ffff:a.b.c.d
        b.words(src.version === 6 ? src.words : Uint32Array.of(0, 0, 0xffff, src.words[0]), 4);
        b.words(des.version === 6 ? des.words : Uint32Array.of(0, 0, 0xffff, des.words[0]), 4);
      } else {
        b.u32(src.words[0]);
        b.u32(des.words[0]);
      }
      b.u16(r.srcPort);
      b.u16(r.desPort);
      b.u8(r.protocol);
      b.u64(Math.round(r.startMs));
      b.u64(Math.round(r.endMs));
      b.u64(r.packets);
      b.u64(r.octets);
      b.u8(r.endReason);
      b.varString(r.app);
      b.varString(r.presence);
      b.f64(r.probability ?? NaN);
      b.u8(Math.max(0, Math.min(100, Math.round(r.callCertainty))));
      b.varString(r.flowId);
      b.u8(r.cameraOff ? 1 : 2); // RFC 7011 6.1.5: true 1, false 2
      n++;
    }
    flush();
    return out;
  }
}
