import type { SequenceRun } from './evaluate';

/**
 * Per-window predictions as CSV, ready for a chart tool: time (seconds; epoch for traces),
 * flow, truth (1/0, empty when unlabelled; only with truth), raw and final prediction (1 person /
 * 0 background), probability (smoothed P(person)), certainty (0–100 in the final label).
 */
export function predictionsCsv(runs: readonly SequenceRun[], withTruth: boolean): string {
  const out: string[] = [
    withTruth ? 'time,flow,truth,raw,final,probability,certainty' : 'time,flow,raw,final,probability,certainty',
  ];
  for (const r of runs) {
    const flow = /[",\n]/.test(r.seq.flow) ? `"${r.seq.flow.replace(/"/g, '""')}"` : r.seq.flow;
    for (let i = 0; i < r.times.length; i++) {
      const p = r.prob[i];
      const cert = (100 * (r.final[i] ? p : 1 - p)).toFixed(1);
      const cells = [String(Math.round(r.times[i] * 1e6) / 1e6), flow];
      if (withTruth) cells.push(r.labels[i] < 0 ? '' : String(r.labels[i]));
      cells.push(String(r.raw[i]), String(r.final[i]), p.toFixed(4), cert);
      out.push(cells.join(','));
    }
  }
  return out.join('\n') + '\n';
}
