import { formatDateTime } from './columns';
import type { WindowRow } from '../store/view-types';

/**
 * The details view's charts as data: a flow's window history shaped into the x labels and y values
 * a line chart draws. Pure, so the shaping is tested without a terminal; the drawing is done by
 * blessed-contrib at the edge (details-charts.ts).
 */

/** The P(person) chart: x labels and two y series of the same length, all finite. */
export interface PresenceSeries {
  x: string[];
  /** `probability`: mean P(person) per point; `final`: the final prediction, 1 person / 0 background */
  y: { probability: number[]; final: number[] };
  /** windows charted: those with a prediction */
  windows: number;
}

/** The bitrate chart: x labels and the mean bit rate per point, in `unit`. */
export interface BitrateSeries {
  x: string[];
  y: { bitrate: number[] };
  unit: BitrateUnit;
}

export interface BitrateUnit {
  name: 'b/s' | 'kb/s' | 'Mb/s' | 'Gb/s';
  /** bit/s per unit */
  scale: number;
}

const UNITS: BitrateUnit[] = [
  { name: 'Gb/s', scale: 1e9 },
  { name: 'Mb/s', scale: 1e6 },
  { name: 'kb/s', scale: 1e3 },
];

/** The largest unit in which the peak is at least 1, so the axis labels stay short. */
export function bitrateUnit(peakBps: number): BitrateUnit {
  return UNITS.find((u) => peakBps >= u.scale) ?? { name: 'b/s', scale: 1 };
}

/** `HH:MM:SS` of a window start (local time), the x label. */
function timeLabel(epochS: number): string {
  return formatDateTime(epochS).slice(11);
}

/**
 * Consecutive runs of at most ceil(n / maxPoints) items, oldest first: a chart has no use for
 * more points than it has pixel columns, and a long history (the details view loads up to
 * 2000 windows) would otherwise be drawn as a smear.
 */
function buckets<T>(items: readonly T[], maxPoints: number): T[][] {
  const size = Math.max(1, Math.ceil(items.length / Math.max(1, maxPoints)));
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function mean(xs: readonly number[]): number {
  let sum = 0;
  for (const x of xs) sum += x;
  return sum / xs.length;
}

function finite(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/**
 * P(person) and the final prediction over time, at most `maxPoints` points. Only windows with a
 * prediction are charted (none without a model: null then). A point that stands for several
 * windows shows their mean P(person) and the prediction most of them had (ties go to person),
 * so the final prediction stays a 0/1 step line, told apart from the probability by its shape
 * even without colour.
 */
export function presenceSeries(windows: readonly WindowRow[], maxPoints: number): PresenceSeries | null {
  const known = windows.filter((w) => finite(w.probability) && finite(w.presence));
  if (known.length === 0) return null;
  const x: string[] = [];
  const probability: number[] = [];
  const final: number[] = [];
  for (const b of buckets(known, maxPoints)) {
    x.push(timeLabel(b[0].start));
    probability.push(Math.min(1, Math.max(0, mean(b.map((w) => w.probability as number)))));
    final.push(mean(b.map((w) => ((w.presence as number) > 0 ? 1 : 0))) >= 0.5 ? 1 : 0);
  }
  return { x, y: { probability, final }, windows: known.length };
}

/** The bit rate over time (mean per point), in the unit that suits its peak; null without windows. */
export function bitrateSeries(windows: readonly WindowRow[], maxPoints: number): BitrateSeries | null {
  const known = windows.filter((w) => Number.isFinite(w.bitrate));
  if (known.length === 0) return null;
  const x: string[] = [];
  const bps: number[] = [];
  for (const b of buckets(known, maxPoints)) {
    x.push(timeLabel(b[0].start));
    bps.push(Math.max(0, mean(b.map((w) => w.bitrate))));
  }
  const unit = bitrateUnit(Math.max(...bps));
  return { x, y: { bitrate: bps.map((v) => v / unit.scale) }, unit };
}

/** The y-axis labels a chart shows: 0 and four steps up, the top one at or above the peak. */
export const Y_LABELS = 5;

/**
 * The top of a y axis for values up to `peak`: 5 steps of 1, 2 or 5 × 10^k, so the labels under
 * it (0, step, ..., 4 × step) are round and the highest reaches the peak. The fifth step is
 * headroom: blessed-contrib draws a value at the very top of its axis outside the canvas.
 * A peak of 0 (a silent flow) still gets an axis of 0..4 instead of a division by zero.
 */
export function axisMax(peak: number): number {
  const need = Number.isFinite(peak) && peak > 0 ? peak / (Y_LABELS - 1) : 1;
  const pow = 10 ** Math.floor(Math.log10(need));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= need * (1 - 1e-9)) as number;
  return step * Y_LABELS;
}
