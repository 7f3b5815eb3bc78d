/**
 * Presence schedules: alternating person/background segments on the video's own clock
 * (seconds from its first frame), and their conversion to a labels file on the packets' clock.
 */
import { Rng } from './rng';

export type Label = 'person' | 'background';

export interface Segment {
  label: Label;
  start: number;
  end: number;
}

/**
 * Random alternating segments covering `seconds`, each roughly `min`..`max` long, at least
 * five of them (four presence changes), first label chosen by the seed.
 */
export function randomSchedule(seed: number, seconds: number, min: number, max: number): Segment[] {
  const rng = new Rng(seed * 101 + 3);
  const n = Math.max(5, Math.round(seconds / ((min + max) / 2)));
  const raw = Array.from({ length: n }, () => rng.range(min, max));
  const k = seconds / raw.reduce((a, b) => a + b, 0);
  let label: Label = rng.next() < 0.5 ? 'person' : 'background';
  let t = 0;
  return raw.map((d, i) => {
    const end = i === n - 1 ? seconds : Math.round((t + d * k) * 10) / 10;
    const seg = { label, start: t, end };
    t = end;
    label = label === 'person' ? 'background' : 'person';
    return seg;
  });
}

/** Parses "background:20,person:35,..." (durations in seconds) into segments. */
export function parseSchedule(text: string): Segment[] {
  let t = 0;
  return text.split(',').map((part) => {
    const [label, dur] = part.split(':');
    if ((label !== 'person' && label !== 'background') || !(Number(dur) > 0)) {
      throw new Error(`schedule: "${part}" is not person:SECONDS or background:SECONDS`);
    }
    const seg = { label: label as Label, start: t, end: t + Number(dur) };
    t = seg.end;
    return seg;
  });
}

/**
 * Labels CSV (docs/design.md, "Labels"): epoch seconds. `t0` is the epoch of video time 0 (first y4m frame);
 * intervals are clipped to [from, to], the span actually captured.
 */
export function labelsCsv(schedule: Segment[], t0: number, from: number, to: number): string {
  const rows = ['start,end,label'];
  for (const s of schedule) {
    const a = Math.max(t0 + s.start, from),
      b = Math.min(t0 + s.end, to);
    if (b > a) rows.push(`${a.toFixed(3)},${b.toFixed(3)},${s.label}`);
  }
  return rows.join('\n') + '\n';
}

/** The part of a recording's NAME.json that places each peer's schedule on the packets' clock. */
export interface RecordedPeers {
  name: string;
  capture: { start: number; end: number };
  peers: Record<string, { ip: string; videoStartEpoch?: number; schedule: Segment[] }>;
}

/**
 * Labels of the remote peers' own cameras (NAME.B.labels.csv, …): each remote films a scheduled
 * scene too, so the call's other direction is a labelled stream as well (train with
 * `--local <that peer's ip>`). Peers recorded without their video clock get none.
 */
export function remoteLabels(rec: RecordedPeers): { peer: string; ip: string; file: string; csv: string }[] {
  return Object.entries(rec.peers)
    .filter(([peer, p]) => peer !== 'A' && p.videoStartEpoch !== undefined)
    .map(([peer, p]) => ({
      peer,
      ip: p.ip,
      file: `${rec.name}.${peer}.labels.csv`,
      csv: labelsCsv(p.schedule, p.videoStartEpoch as number, rec.capture.start, rec.capture.end),
    }));
}
