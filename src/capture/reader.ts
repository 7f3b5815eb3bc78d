import { UserError } from '../util/errors';
import { FdSource } from './byte-source';
import { ChunkReader } from './chunk-reader';
import { openGunzip } from './gunzip-source';
import { PCAP_MAGIC_NS, PCAP_MAGIC_US, PcapReader } from './pcap-reader';
import { PCAPNG_SHB, PcapngReader } from './pcapng-reader';
import type { PacketSource } from './types';

/** Bytes a reader's constructor looks at: the pcap file header. */
const FILE_HEADER = 24;

/**
 * Opens a pcap or pcapng trace, plain or gzip-compressed, from a file or ('-') stdin, and
 * streams its packets. Fatal problems are UserErrors naming the file, the place and the fix;
 * a cut-off tail ends the stream with a line in `warnings`. Asynchronous for gzip, whose start
 * must be inflated before the format can be told.
 */
export async function openTrace(path: string): Promise<PacketSource> {
  const name = traceName(path);
  let c = new ChunkReader(FdSource.open(path, name));
  try {
    c.ensure(FILE_HEADER);
    if (c.available === 0)
      throw new UserError(`${name}: ${path === '-' ? 'no data' : 'file is empty'}; expected a pcap or pcapng trace`);
    if (c.available >= 2 && c.buf[c.pos] === 0x1f && c.buf[c.pos + 1] === 0x8b) {
      c = new ChunkReader(openGunzip(c, name));
      await c.fill(FILE_HEADER);
      if (c.available === 0)
        throw new UserError(`${name}: gzip file holds nothing; expected a compressed pcap or pcapng trace`);
    }
    const head = c.buf.subarray(c.pos, c.pos + Math.min(4, c.available));
    const packer = otherCompression(head);
    if (packer)
      throw new UserError(
        `${name}: ${packer.name}-compressed; decompress it first (${packer.command}) or recompress with gzip`,
      );
    if (head.length === 4) {
      const le = head.readUInt32LE(0);
      const be = head.readUInt32BE(0);
      if (le === PCAPNG_SHB) return new PcapngReader(c, name);
      if (le === PCAP_MAGIC_US || le === PCAP_MAGIC_NS || be === PCAP_MAGIC_US || be === PCAP_MAGIC_NS)
        return new PcapReader(c, name);
    }
    throw new UserError(
      `${name}: not a pcap or pcapng trace (it starts with ${describeStart(head)}); ` +
        'give a file written by tcpdump, dumpcap, Wireshark or spymate',
    );
  } catch (err) {
    c.close();
    throw err;
  }
}

/** How messages name a trace given as `path` ('-': stdin). */
export function traceName(path: string): string {
  return path === '-' ? 'stdin' : path;
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
