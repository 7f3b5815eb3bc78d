/**
 * --ipfix udp://HOST:PORT | tcp://HOST:PORT: the call reports (export/call-reports.ts) as IPFIX
 * messages (export/ipfix.ts) to a collector. UDP: datagrams that need no fragments, templates at
 * the start and every TEMPLATE_REFRESH_MS after (a restarted collector learns them again, RFC
 * 7011 8.4). TCP: one Transport Session per connection, templates first; while the collector is
 * away the reports wait (up to MAX_PENDING) and the connection is retried. Never blocks the
 * filter thread; what could not be sent is counted.
 */
import dgram from 'node:dgram';
import dns from 'node:dns/promises';
import net from 'node:net';
import { usageError } from '../util/errors';
import { CallReports } from './call-reports';
import { IpfixEncoder, type IpfixRecord } from './ipfix';
import type { LiveRecord } from '../store/types';

export interface IpfixOptions {
  url: string;
  /** seconds of pipeline time between two reports of one call */
  intervalS: number;
  pen: number;
  /** observation domain id of every message */
  domain: number;
  warn: (line: string) => void;
}

export interface IpfixReport {
  url: string;
  /** data records sent, and records that could not be */
  records: number;
  messages: number;
  bytes: number;
  dropped: number;
}

const UDP_MESSAGE = 1400;
const TCP_MESSAGE = 16384;
const TEMPLATE_REFRESH_MS = 10_000;
const MAX_PENDING = 100_000;
const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 8000;

/** udp://HOST:PORT or tcp://HOST:PORT (IPv6 as [addr]); usage errors otherwise. */
export function parseIpfixUrl(text: string): { proto: 'udp' | 'tcp'; host: string; port: number } {
  const m = /^(udp|tcp):\/\/(\[[0-9a-fA-F:.]+\]|[^/:[\]]+):(\d{1,5})\/?$/.exec(text);
  if (!m) throw usageError(`--ipfix: '${text}' is not udp://HOST:PORT or tcp://HOST:PORT (e.g. udp://127.0.0.1:4739)`);
  const port = Number(m[3]);
  if (port < 1 || port > 65535) throw usageError(`--ipfix: port ${m[3]} is out of range 1-65535`);
  return { proto: m[1] as 'udp' | 'tcp', host: m[2].replace(/^\[(.*)\]$/, '$1'), port };
}

interface Transport {
  send(records: IpfixRecord[]): void;
  close(): Promise<void>;
}

export class IpfixExporter {
  private readonly reports: CallReports;
  private readonly report: IpfixReport;

  private constructor(
    o: IpfixOptions,
    private readonly transport: Transport,
    report: IpfixReport,
  ) {
    this.reports = new CallReports(o.intervalS);
    this.report = report;
  }

  static async open(o: IpfixOptions): Promise<IpfixExporter> {
    const { proto, host, port } = parseIpfixUrl(o.url);
    const report: IpfixReport = { url: o.url, records: 0, messages: 0, bytes: 0, dropped: 0 };
    const encoder = new IpfixEncoder(o.pen, o.domain, proto === 'udp' ? UDP_MESSAGE : TCP_MESSAGE);
    const transport =
      proto === 'udp'
        ? await udpTransport(o, host, port, encoder, report)
        : tcpTransport(o, host, port, encoder, report);
    return new IpfixExporter(o, transport, report);
  }

  /** One batch's records; reports that fall due are sent now. */
  add(records: readonly LiveRecord[]): void {
    const due = this.reports.add(records);
    if (due.length > 0) this.transport.send(due);
  }

  async close(): Promise<IpfixReport> {
    await this.transport.close();
    return { ...this.report };
  }
}

async function udpTransport(
  o: IpfixOptions,
  host: string,
  port: number,
  enc: IpfixEncoder,
  rep: IpfixReport,
): Promise<Transport> {
  let address: { address: string; family: number };
  try {
    address = await dns.lookup(host);
  } catch {
    throw usageError(`--ipfix: host '${host}' not found`);
  }
  const socket = dgram.createSocket(address.family === 6 ? 'udp6' : 'udp4');
  let warned = false;
  // a connected UDP socket hears ICMP port unreachable as ECONNREFUSED on a later send
  const trouble = (err: NodeJS.ErrnoException): void => {
    if (warned) return;
    warned = true;
    o.warn(`IPFIX collector ${o.url}: ${err.code ?? err.message}; sending on, counting what fails`);
  };
  socket.on('error', trouble);
  await new Promise<void>((resolve) => socket.connect(port, address.address, () => resolve()));
  let inFlight = 0;
  let drained: (() => void) | null = null;
  let templatesAt = -Infinity;
  const sendOne = (msg: Buffer, records: number): void => {
    inFlight++;
    socket.send(msg, (err) => {
      inFlight--;
      if (err) {
        rep.dropped += records;
        trouble(err);
      } else {
        rep.records += records;
        rep.messages++;
        rep.bytes += msg.length;
      }
      if (inFlight === 0) drained?.();
    });
  };
  return {
    send(records) {
      const now = Date.now();
      if (now - templatesAt >= TEMPLATE_REFRESH_MS) {
        templatesAt = now;
        sendOne(enc.templates(now / 1000), 0);
      }
      for (const m of enc.data(records, now / 1000)) sendOne(m.message, m.records);
    },
    async close() {
      if (inFlight > 0) await new Promise<void>((r) => (drained = r));
      await new Promise<void>((r) => socket.close(() => r()));
    },
  };
}

function tcpTransport(o: IpfixOptions, host: string, port: number, enc: IpfixEncoder, rep: IpfixReport): Transport {
  let socket: net.Socket | null = null;
  let connected = false;
  let closing = false;
  let pending: IpfixRecord[] = [];
  let retry = RETRY_MIN_MS;
  let timer: NodeJS.Timeout | null = null;
  let downSince: number | null = null;

  const write = (records: IpfixRecord[]): void => {
    const s = socket as net.Socket;
    for (const m of enc.data(records, Date.now() / 1000)) {
      s.write(m.message);
      rep.messages++;
      rep.bytes += m.message.length;
    }
    rep.records += records.length;
  };
  const connect = (): void => {
    timer = null;
    const s = net.connect({ host, port });
    socket = s;
    s.setNoDelay(true);
    s.on('connect', () => {
      connected = true;
      retry = RETRY_MIN_MS;
      if (downSince !== null)
        o.warn(`IPFIX collector ${o.url} accepts again: sending ${pending.length} waiting reports`);
      downSince = null;
      enc.reset();
      s.write(enc.templates(Date.now() / 1000));
      const waiting = pending;
      pending = [];
      if (waiting.length > 0) write(waiting);
    });
    s.on('error', (err: NodeJS.ErrnoException) => {
      if (downSince === null && !closing) {
        downSince = Date.now();
        o.warn(
          `IPFIX collector ${o.url} unreachable (${err.code ?? err.message}): keeping up to ${MAX_PENDING} reports until it accepts`,
        );
      }
    });
    s.on('close', () => {
      connected = false;
      if (socket === s) socket = null;
      if (closing) return;
      if (downSince === null) {
        downSince = Date.now();
        o.warn(`IPFIX collector ${o.url} closed the connection: keeping up to ${MAX_PENDING} reports until it accepts`);
      }
      timer = setTimeout(connect, retry);
      retry = Math.min(retry * 2, RETRY_MAX_MS);
    });
  };
  connect();
  return {
    send(records) {
      if (connected && socket) {
        write(records);
        return;
      }
      const room = MAX_PENDING - pending.length;
      pending.push(...records.slice(0, room));
      rep.dropped += Math.max(0, records.length - room);
    },
    async close() {
      closing = true;
      if (timer) clearTimeout(timer);
      rep.dropped += pending.length;
      pending = [];
      const s = socket;
      if (!s || !connected) {
        s?.destroy();
        return;
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          s.destroy();
          resolve();
        }, 5000);
        s.end(() => {
          clearTimeout(t);
          resolve();
        });
      });
    },
  };
}
