import { UserError } from '../util/errors';
import { ByteSource, FdSource } from './byte-source';
import { GunzipSource } from './gunzip-source';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PcapReader } from './pcap-reader';
import { PCAPNG_SHB, PcapngReader } from './pcapng-reader';
import type { PacketSource } from './types';

/**
 * Opens a pcap or pcapng trace, plain or gzip-compressed, from a file or ('-') stdin, and
 * streams its packets. Fatal problems are UserErrors naming the file, the place and the fix;
 * a cut-off tail ends the stream with a line in `warnings`.
 */
export function openTrace(path: string): PacketSource {
  const name = traceName(path);
  let src: ByteSource = FdSource.open(path, name);
  try {
    let head = peek(src, 4);
    if (head.length === 0)
      throw new UserError(`${name}: ${path === '-' ? 'no data' : 'file is empty'}; expected a pcap or pcapng trace`);
    if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) {
      src = new GunzipSource(new Replay(head, src), name);
      head = peek(src, 4);
      if (head.length === 0)
        throw new UserError(`${name}: gzip file holds nothing; expected a compressed pcap or pcapng trace`);
    }
    const packer = otherCompression(head);
    if (packer)
      throw new UserError(
        `${name}: ${packer.name}-compressed; decompress it first (${packer.command}) or recompress with gzip`,
      );
    const replay = new Replay(head, src);
    if (head.length === 4) {
      const le = head.readUInt32LE(0);
      const be = head.readUInt32BE(0);
      if (le === PCAPNG_SHB) return new PcapngReader(replay, name);
      if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS)
        return new PcapReader(replay, name);
    }
    throw new UserError(
      `${name}: not a pcap or pcapng trace (it starts with ${describeStart(head)}); ` +
        'give a file written by tcpdump, dumpcap, Wireshark or spymate',
    );
  } catch (err) {
    src.close();
    throw err;
  }
}

/** How messages name a trace given as `path` ('-': stdin). */
export function traceName(path: string): string {
  return path === '-' ? 'stdin' : path;
}

/** Up to n bytes from the start of the stream (fewer only at its end). */
function peek(src: ByteSource, n: number): Buffer {
  const head = Buffer.alloc(n);
  let got = 0;
  while (got < n) {
    const r = src.read(head, got, n - got);
    if (r === 0) break;
    got += r;
  }
  return head.subarray(0, got);
}

/** Compressions Wireshark reads but Node cannot stream: said by name rather than "not a trace". */
function otherCompression(head: Buffer): { name: string; command: string } | null {
  const hex = head.toString('hex');
  if (hex.startsWith('28b52ffd')) return { name: 'zstd', command: 'zstd -d FILE' };
  if (hex.startsWith('04224d18')) return { name: 'lz4', command: 'lz4 -d FILE' };
  if (hex.startsWith('fd377a58')) return { name: 'xz', command: 'xz -dk FILE' };
  if (hex.startsWith('425a68')) return { name: 'bzip2', command: 'bunzip2 -k FILE' };
  return null;
}

function describeStart(head: Buffer): string {
  const text = head.toString('latin1');
  if (/^[\x20-\x7e\t\r\n]+$/.test(text)) return `text "${text.replace(/[\r\n\t]/g, ' ')}…"`;
  return `bytes ${head.toString('hex').replace(/(..)/g, '$1 ').trim()}`;
}

/** Gives back the bytes peeked from the stream's start, then reads on from the stream. */
class Replay implements ByteSource {
  private pos = 0;
  constructor(
    private readonly head: Buffer,
    private readonly src: ByteSource,
  ) {}

  get warnings(): string[] {
    return this.src.warnings;
  }

  read(buf: Buffer, off: number, len: number): number {
    if (this.pos < this.head.length) {
      const n = this.head.copy(buf, off, this.pos, Math.min(this.head.length, this.pos + len));
      this.pos += n;
      return n;
    }
    return this.src.read(buf, off, len);
  }

  close(): void {
    this.src.close();
  }
}
