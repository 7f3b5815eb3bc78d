import type { SequenceRun } from './evaluate';

/** The cells of one camera's prediction for a window: raw, final (1 person / 0 background), probability, certainty. */
function cameraCells(r: SequenceRun, i: number): string[] {
  const p = r.prob[i];
  return [String(r.raw[i]), String(r.final[i]), p.toFixed(4), (100 * (r.final[i] ? p : 1 - p)).toFixed(1)];
}

function csvText(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Per-window predictions as CSV, ready for a chart tool: time (seconds; epoch for traces),
 * flow, truth (1/0, empty when unlabelled; only with truth), raw and final prediction (1 person /
 * 0 background), probability (smoothed P(person)), certainty (0–100 in the final label): the local
 * side's camera. When the runs include the remote cameras of the calls (`seq.remote`), four more
 * columns say the same of the remote camera, `remote_raw` … `remote_certainty`, on the same row as
 * the local camera's window; a camera not judged in a window (no video) leaves its cells empty.
 */
export function predictionsCsv(runs: readonly SequenceRun[], withTruth: boolean): string {
  const remote = new Map<string, SequenceRun>();
  for (const r of runs) if (r.seq.remote) remote.set(`${r.seq.source}\n${r.seq.flow}`, r);
  const both = remote.size > 0;
  const head = ['time', 'flow', ...(withTruth ? ['truth'] : []), 'raw', 'final', 'probability', 'certainty'];
  if (both) head.push('remote_raw', 'remote_final', 'remote_probability', 'remote_certainty');
  const out: string[] = [head.join(',')];
  const width = head.length - (both ? 4 : 0) - 2 - (withTruth ? 1 : 0);
  for (const r of runs) {
    if (r.seq.remote) continue;
    const other = remote.get(`${r.seq.source}\n${r.seq.flow}`);
    remote.delete(`${r.seq.source}\n${r.seq.flow}`);
    // the rows of both cameras by window start: either may have windows the other has not
    const at = new Map<number, [number, number]>();
    for (let i = 0; i < r.times.length; i++) at.set(r.times[i], [i, -1]);
    if (other)
      for (let k = 0; k < other.times.length; k++) at.set(other.times[k], [at.get(other.times[k])?.[0] ?? -1, k]);
    const flow = csvText(r.seq.flow);
    for (const t of [...at.keys()].sort((a, b) => a - b)) {
      const [i, k] = at.get(t) as [number, number];
      const cells = [String(Math.round(t * 1e6) / 1e6), flow];
      if (withTruth) cells.push(i < 0 || r.labels[i] < 0 ? '' : String(r.labels[i]));
      cells.push(...(i < 0 ? new Array<string>(width).fill('') : cameraCells(r, i)));
      if (both) cells.push(...(other && k >= 0 ? cameraCells(other, k) : ['', '', '', '']));
      out.push(cells.join(','));
    }
  }
  // calls whose local camera sent no video at all: only the remote camera's rows
  for (const r of remote.values()) {
    for (let k = 0; k < r.times.length; k++) {
      const cells = [String(Math.round(r.times[k] * 1e6) / 1e6), csvText(r.seq.flow)];
      if (withTruth) cells.push('');
      cells.push(...new Array<string>(width).fill(''), ...cameraCells(r, k));
      out.push(cells.join(','));
    }
  }
  return out.join('\n') + '\n';
}
