import type { EndReason } from '../flow/types';
import type { LiveRecord, WindowOut } from '../store/types';
import { END_ACTIVE, END_DETECTED, END_FORCED, END_IDLE, END_RESOURCES, type IpfixRecord } from './ipfix';

const END_REASON: Record<EndReason, number> = {
  fin: END_DETECTED,
  rst: END_DETECTED,
  'media-stop': END_DETECTED,
  timeout: END_IDLE,
  evicted: END_RESOURCES,
  'end-of-trace': END_FORCED,
};

interface Call {
  first: LiveRecord;
  app: string;
  /** counts since the last report, and what the reports so far carried */
  packets: number;
  bytes: number;
  sentPackets: number;
  sentBytes: number;
  /** the span the next report covers: from its first record to its last packet */
  spanStart: number | null;
  spanEnd: number;
  /** pipeline time of the next interval report */
  nextAt: number;
  latest: WindowOut | null;
}

/**
 * Turns the record stream into IPFIX reports: one per call per interval of pipeline time (with the
 * packets and octets of its windows since the last report, sent with the window that ends the
 * interval), and one at its end, whose counts make the reports add up to the flow's totals of the
 * end record.
 */
export class CallReports {
  private readonly calls = new Map<string, Call>();

  constructor(private readonly intervalS: number) {}

  /** Records in their order: the reports due. */
  add(records: readonly LiveRecord[]): IpfixRecord[] {
    const out: IpfixRecord[] = [];
    for (const r of records) {
      let c = this.calls.get(r.flowID);
      if (!c) {
        c = {
          first: r,
          app: r.app,
          packets: 0,
          bytes: 0,
          sentPackets: 0,
          sentBytes: 0,
          spanStart: r.start,
          spanEnd: r.end,
          nextAt: r.start + this.intervalS,
          latest: null,
        };
        this.calls.set(r.flowID, c);
      }
      if (r.app) c.app = r.app;
      if (r.event === 'window') {
        c.latest = r;
        c.packets += r.packets;
        c.bytes += r.bytes;
        if (c.spanStart === null) c.spanStart = r.start;
        if (r.packets > 0) c.spanEnd = Math.max(c.spanEnd, r.end);
        // the window that closes an interval sends its report, whatever the batching
        if (r.end >= c.nextAt) {
          out.push(this.report(c, END_ACTIVE));
          while (c.nextAt <= r.end) c.nextAt += this.intervalS;
        }
      } else if (r.event === 'end') {
        // the end record has the flow's totals: the last report carries what the others did not
        c.packets = Math.max(0, r.packets - c.sentPackets);
        c.bytes = Math.max(0, r.bytes - c.sentBytes);
        c.spanEnd = Math.max(c.spanEnd, r.end);
        out.push(this.report(c, END_REASON[r.reason ?? 'end-of-trace']));
        this.calls.delete(r.flowID);
      }
    }
    return out;
  }

  private report(c: Call, endReason: number): IpfixRecord {
    const f = c.first;
    const w = c.latest;
    const start = c.spanStart ?? c.spanEnd;
    const r: IpfixRecord = {
      srcIP: f.srcIP,
      desIP: f.desIP,
      srcPort: f.srcPort,
      desPort: f.desPort,
      protocol: f.protocol === 'TCP' ? 6 : 17,
      startMs: start * 1000,
      endMs: Math.max(start, c.spanEnd) * 1000,
      packets: c.packets,
      octets: c.bytes,
      endReason,
      flowId: f.flowID,
      app: c.app,
      presence: w?.presence ?? 'unknown',
      probability: w?.probability ?? null,
      // the records' call certainty is 0..1 (1 for a rule's call, docs/calls.md); the element is 0..100
      callCertainty: Math.round((w ?? f).callCertainty * 100),
      cameraOff: w?.presence === 'camera-off',
    };
    c.sentPackets += c.packets;
    c.sentBytes += c.bytes;
    c.packets = 0;
    c.bytes = 0;
    c.spanStart = null;
    return r;
  }
}
