import type { FdOutput } from './output';
import type { FlowVerdict } from './types';

/**
 * `spymate extract --explain`: one line per flow — its verdict, the app and call certainty of a
 * call, the flow, and why (the rule file and line, the call classifier's score and telling
 * statistics, or why it is no call). Packets and seconds are those seen when the verdict was given.
 * As text (a header, then aligned columns) or, with --format ndjson, one JSON object per flow.
 */
export class ExplainWriter {
  private headerDone = false;

  constructor(
    private readonly out: FdOutput,
    private readonly json: boolean,
  ) {}

  write(v: FlowVerdict): void {
    const f = v.flow;
    const seconds = Math.max(0, f.lastTs - f.firstTs);
    if (this.json) {
      this.out.write(
        JSON.stringify({
          verdict: v.call ? 'call' : 'no',
          app: v.call ? f.app : null,
          callCertainty: v.call ? f.certainty : null,
          flowID: f.flowID,
          protocol: f.protocol,
          srcIP: f.srcIP,
          srcPort: f.srcPort,
          desIP: f.desIP,
          desPort: f.desPort,
          start: f.firstTs,
          packets: f.packets,
          seconds,
          reason: v.reason,
        }) + '\n',
      );
      return;
    }
    if (!this.headerDone) {
      this.headerDone = true;
      this.out.write(
        `${'VERDICT'.padEnd(8)}${'APP'.padEnd(10)}${'CERT'.padStart(5)}  ${'FLOW'.padEnd(56)}${'PKTS'.padStart(7)}${'SECS'.padStart(8)}  REASON\n`,
      );
    }
    const flow = `${f.protocol} ${endpoint(f.srcIP, f.srcPort)} <-> ${endpoint(f.desIP, f.desPort)}`;
    const cert = v.call ? `${Math.round(f.certainty * 100)}%` : '-';
    this.out.write(
      `${(v.call ? 'call' : 'no').padEnd(8)}${(v.call ? (f.app ?? '') : '-').padEnd(10)}${cert.padStart(5)}  ${flow.padEnd(56)}` +
        `${String(f.packets).padStart(7)}${seconds.toFixed(1).padStart(8)}  ${v.reason}\n`,
    );
  }

  close(): void {
    this.out.close();
  }
}

function endpoint(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}
