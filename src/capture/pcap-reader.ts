import { UserError } from '../util/errors';
import { u32be, u32le } from './bytes';
import type { ChunkReader } from './chunk-reader';
import { checkLinkType, endOfTraceWarnings, MAX_RECORD, recordTooLong } from './trace-messages';
import type { PacketSource, RawPacket } from './types';

export const PCAP_MAGIC_US = 0xa1b2c3d4;
export const PCAP_MAGIC_NS = 0xa1b23c4d;
const FILE_HEADER = 24;
const RECORD_HEADER = 16;

/** Classic libpcap files: µs or ns timestamps, either byte order (told apart by the magic). */
export class PcapReader implements PacketSource {
  readonly warnings: string[] = [];
  private readonly le: boolean;
  private readonly fracDiv: number;
  private readonly linkType: number;
  private packets = 0;
  private done = false;

  /** `c` must hold the file header already (or the stream have ended): see ChunkReader.fill(). */
  constructor(
    private readonly c: ChunkReader,
    private readonly name: string,
  ) {
    if (!c.ensure(FILE_HEADER)) {
      throw new UserError(
        `${name}: trace cut off inside its ${FILE_HEADER}-byte pcap file header (${c.available} bytes); the file is incomplete`,
      );
    }
    const magicLe = c.buf.readUInt32LE(0);
    this.le = magicLe === PCAP_MAGIC_US || magicLe === PCAP_MAGIC_NS;
    const magic = this.le ? magicLe : c.buf.readUInt32BE(0);
    this.fracDiv = magic === PCAP_MAGIC_NS ? 1e9 : 1e6;
    // The upper bits of the link type field carry FCS information, not the type.
    this.linkType = (this.le ? c.buf.readUInt32LE(20) : c.buf.readUInt32BE(20)) & 0xffff;
    checkLinkType(name, this.linkType, 'pcap file header, byte 20');
    c.pos = FILE_HEADER;
  }

  next(out: RawPacket): boolean {
    if (this.done) return false;
    const c = this.c;
    if (c.end - c.pos < RECORD_HEADER && !c.ensure(RECORD_HEADER)) return this.stop();
    let b = c.buf;
    let p = c.pos;
    let sec: number, frac: number, capLen: number, wireLen: number;
    if (this.le) {
      sec = u32le(b, p);
      frac = u32le(b, p + 4);
      capLen = u32le(b, p + 8);
      wireLen = u32le(b, p + 12);
    } else {
      sec = u32be(b, p);
      frac = u32be(b, p + 4);
      capLen = u32be(b, p + 8);
      wireLen = u32be(b, p + 12);
    }
    if (capLen > MAX_RECORD) throw recordTooLong(this.name, `record ${this.packets + 1}`, c.offset, capLen);
    const size = RECORD_HEADER + capLen;
    if (c.end - p < size) {
      if (!c.ensure(size)) return this.stop();
      b = c.buf;
      p = c.pos;
    }
    out.buf = b;
    out.off = p + RECORD_HEADER;
    out.capLen = capLen;
    out.wireLen = wireLen;
    out.ts = sec + frac / this.fracDiv;
    out.linkType = this.linkType;
    c.pos = p + size;
    this.packets++;
    return true;
  }

  /** No whole record at hand: the end of the trace, or (a compressed one) none inflated yet, left for the next call. */
  private stop(): boolean {
    if (!this.c.ended) return false;
    this.done = true;
    this.warnings.push(
      ...endOfTraceWarnings(this.name, this.c.warnings, this.c.available > 0 ? this.c.offset : null, this.packets),
    );
    return false;
  }

  async more(): Promise<boolean> {
    if (this.done) return false;
    await this.c.ready();
    return true;
  }

  close(): void {
    this.c.close();
  }
}
