import { UserError } from '../util/errors';
import { u16be, u16le, u32be, u32le } from './bytes';
import { CHUNK_SIZE, type ChunkReader } from './chunk-reader';
import { checkLinkType, endOfTraceWarnings, MAX_RECORD, recordTooLong } from './trace-messages';
import type { PacketSource, RawPacket } from './types';

export const PCAPNG_SHB = 0x0a0d0d0a;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
const IDB = 1;
const OPB = 2; // obsolete packet block, still written by old tools
const SPB = 3;
const EPB = 6;
const OPT_END = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const TWO_32 = 4294967296;

/**
 * pcapng: sections (each with its own byte order and interfaces), interfaces with their own link
 * type and timestamp resolution, enhanced/simple/obsolete packet blocks; other blocks are skipped
 * unread. Blocks we parse must fit the 1 MiB chunk; blocks we skip may be any size.
 */
export class PcapngReader implements PacketSource {
  readonly warnings: string[] = [];
  private le = true;
  private linkTypes: number[] = [];
  private snapLens: number[] = [];
  /** timestamp units per second, and the if_tsoffset seconds, per interface */
  private tsDiv: number[] = [];
  private tsOffset: number[] = [];
  private blocks = 0;
  private packets = 0;
  private lastTs = 0;
  private done = false;
  /** an unparsed block being skipped that the stream had not all given yet: bytes left, and where it started */
  private skipLeft = 0;
  private skipFrom = 0;

  constructor(
    private readonly c: ChunkReader,
    private readonly name: string,
  ) {}

  next(out: RawPacket): boolean {
    if (this.done) return false;
    const c = this.c;
    for (;;) {
      if (c.end - c.pos < 12) {
        if (this.skipLeft > 0 && (this.skipLeft = c.skip(this.skipLeft)) > 0) return this.stop(this.skipFrom);
        if (!c.ensure(12)) return this.stop();
      }
      const b = c.buf;
      const p = c.pos;
      const type = this.u32(b, p);
      if (type === PCAPNG_SHB) this.readByteOrder(b, p);
      const len = this.u32(c.buf, p + 4);
      this.blocks++;
      if (len < 12 || len % 4 !== 0) throw this.badLength(len, 'not a multiple of 4 of at least 12');
      if (type === EPB || type === SPB || type === OPB || type === IDB || type === PCAPNG_SHB) {
        if (len > CHUNK_SIZE)
          throw this.badLength(len, `over the ${CHUNK_SIZE >> 20} MiB we accept for this kind of block`);
        if (c.end - c.pos < len && !c.ensure(len)) {
          if (!c.ended) this.blocks--; // counted again when the block is read whole
          return this.stop();
        }
        if (this.u32(c.buf, c.pos + len - 4) !== len) throw this.badLength(len, 'the copy at its end differs');
        if (this.readBlock(type, len, out)) return true;
      } else {
        this.skipFrom = c.offset;
        if ((this.skipLeft = c.skip(len)) > 0) return this.stop(this.skipFrom);
      }
    }
  }

  /** Parses one whole block at c.pos and moves past it; true when it filled `out` with a packet. */
  private readBlock(type: number, len: number, out: RawPacket): boolean {
    const c = this.c;
    const b = c.buf;
    const p = c.pos;
    let iface: number, capLen: number, wireLen: number, dataOff: number;
    if (type === EPB || type === OPB) {
      if (len < 32) throw this.badLength(len, 'too short for a packet block');
      iface = type === EPB ? this.u32(b, p + 8) : this.u16(b, p + 8);
      capLen = this.u32(b, p + 20);
      wireLen = this.u32(b, p + 24);
      dataOff = p + 28;
      this.checkPacket(iface, capLen, len - 32);
      const div = this.tsDiv[iface];
      this.lastTs = (this.u32(b, p + 12) * TWO_32 + this.u32(b, p + 16)) / div + this.tsOffset[iface];
    } else if (type === SPB) {
      if (len < 16) throw this.badLength(len, 'too short for a simple packet block');
      iface = 0;
      wireLen = this.u32(b, p + 8);
      this.checkPacket(0, 0, 0);
      // An SPB holds min(original length, snaplen) bytes and no timestamp: it inherits the previous one.
      capLen = Math.min(wireLen, this.snapLens[0] || Infinity, len - 16);
      dataOff = p + 12;
    } else {
      if (type === IDB) this.readInterface(b, p, len);
      else this.startSection();
      c.pos = p + len;
      return false;
    }
    out.buf = b;
    out.off = dataOff;
    out.capLen = capLen;
    out.wireLen = wireLen;
    out.ts = this.lastTs;
    out.linkType = this.linkTypes[iface];
    c.pos = p + len;
    this.packets++;
    return true;
  }

  private checkPacket(iface: number, capLen: number, room: number): void {
    const c = this.c;
    if (iface >= this.linkTypes.length) {
      throw new UserError(
        `${this.name}: pcapng block ${this.blocks} at byte ${c.offset} uses interface ${iface}, ` +
          `but the section describes ${this.linkTypes.length}; the file is damaged (re-save it with Wireshark or editcap)`,
      );
    }
    if (capLen > MAX_RECORD) throw recordTooLong(this.name, `pcapng block ${this.blocks}`, c.offset, capLen);
    if (capLen > room) throw this.badLength(room + 32, `too short for the ${capLen} captured bytes it claims`);
  }

  /** A new section header: interfaces are numbered afresh. */
  private startSection(): void {
    this.linkTypes = [];
    this.snapLens = [];
    this.tsDiv = [];
    this.tsOffset = [];
  }

  private readByteOrder(b: Buffer, p: number): void {
    const bom = u32le(b, p + 8);
    if (bom === BYTE_ORDER_MAGIC) this.le = true;
    else if (bom === 0x4d3c2b1a) this.le = false;
    else {
      throw new UserError(
        `${this.name}: pcapng section header at byte ${this.c.offset} has a bad byte-order magic; ` +
          'the file is damaged or not a pcapng trace',
      );
    }
  }

  private readInterface(b: Buffer, p: number, len: number): void {
    if (len < 20) throw this.badLength(len, 'too short for an interface description');
    const n = this.linkTypes.length;
    const linkType = this.u16(b, p + 8);
    checkLinkType(this.name, linkType, `pcapng interface ${n}, block ${this.blocks} at byte ${this.c.offset}`);
    let div = 1e6;
    let offset = 0;
    const end = p + len - 4;
    for (let q = p + 16; q + 4 <= end;) {
      const code = this.u16(b, q);
      const olen = this.u16(b, q + 2);
      if (code === OPT_END || q + 4 + olen > end) break;
      if (code === OPT_IF_TSRESOL && olen >= 1) {
        const v = b[q + 4];
        // High bit set: a power of two (2^-n s), else a power of ten (10^-n s).
        div = v & 0x80 ? 2 ** (v & 0x7f) : 10 ** v;
      } else if (code === OPT_IF_TSOFFSET && olen >= 8) {
        const hi = this.u32(b, this.le ? q + 8 : q + 4);
        const lo = this.u32(b, this.le ? q + 4 : q + 8);
        offset = (hi | 0) * TWO_32 + lo;
      }
      q += 4 + ((olen + 3) & ~3);
    }
    this.linkTypes.push(linkType);
    this.snapLens.push(this.u32(b, p + 12));
    this.tsDiv.push(div);
    this.tsOffset.push(offset);
  }

  private badLength(len: number, why: string): UserError {
    return new UserError(
      `${this.name}: pcapng block ${this.blocks} at byte ${this.c.offset} has a bad length (${len}: ${why}); ` +
        'the file is damaged (re-capture it, or cut the good part out with editcap)',
    );
  }

  /**
   * No whole block at hand: the end of the trace, or (a compressed one) none inflated yet, left for
   * the next call. `cutAt` is where a block cut off by the end started, when the buffer no longer shows it.
   */
  private stop(cutAt: number | null = this.c.available > 0 ? this.c.offset : null): boolean {
    if (!this.c.ended) return false;
    this.done = true;
    this.warnings.push(...endOfTraceWarnings(this.name, this.c.warnings, cutAt, this.packets));
    return false;
  }

  async more(): Promise<boolean> {
    if (this.done) return false;
    await this.c.ready();
    return true;
  }

  private u32(b: Buffer, p: number): number {
    return this.le ? u32le(b, p) : u32be(b, p);
  }

  private u16(b: Buffer, p: number): number {
    return this.le ? u16le(b, p) : u16be(b, p);
  }

  close(): void {
    this.c.close();
  }
}
