import * as path from 'node:path';
import type { SequenceRun } from '../model/evaluate';
import { evaluateOutcomes, type Confusion, type Evaluation } from '../model/metrics';
import type { LearningPoint, Scores } from '../model/types';

export const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

/** A scored sequence's name: its file, and the flow when the file holds more than one. */
export function sequenceName(r: SequenceRun): string {
  const file = path.basename(r.seq.source);
  return r.seq.flow === file ? file : `${file} ${r.seq.flow}`;
}

export function scoreLines(title: string, s: Scores): string[] {
  return [
    `${title}: ${s.windows} windows  accuracy ${pct(s.accuracy)} (per-window classifier ${pct(s.rawAccuracy)})`,
    `  precision ${pct(s.precision)}  recall ${pct(s.recall)}  F1 ${pct(s.f1)}  detection delay ${s.delayS === null ? 'n/a (no change)' : `${s.delayS.toFixed(1)} s (median)`}`,
  ];
}

function confusionLines(c: Confusion): string[] {
  const w = Math.max(6, ...[c.tp, c.fp, c.tn, c.fn].map((n) => String(n).length));
  const cell = (n: number): string => String(n).padStart(w);
  return [
    `${''.padEnd(18)}${'predicted'.padStart(w * 2 + 3)}`,
    `${''.padEnd(18)}${'bg'.padStart(w)}   ${'person'.padStart(w)}`,
    `${'truth background'.padEnd(18)}${cell(c.tn)}   ${cell(c.fp)}`,
    `${'truth person'.padEnd(18)}${cell(c.fn)}   ${cell(c.tp)}`,
  ];
}

export function evaluationLines(e: Evaluation): string[] {
  return [
    ...scoreLines('final (causal)', e),
    `  changes ${e.changes}, not followed ${e.missedChanges}`,
    '',
    ...confusionLines(e.confusion),
  ];
}

/** An ASCII learning curve: accuracy (rows, 50–100 %) vs training size; T = training, V = validation. */
export function learningCurveLines(points: readonly LearningPoint[], height = 10): string[] {
  if (points.length === 0) return [];
  const lo = Math.min(0.5, ...points.map((p) => Math.min(p.trainAccuracy, p.validationAccuracy)));
  const col = 6;
  const rows: string[] = [];
  const level = (a: number): number => Math.round(((a - lo) / (1 - lo)) * (height - 1));
  for (let r = height - 1; r >= 0; r--) {
    const axis = `${(100 * (lo + ((1 - lo) * r) / (height - 1))).toFixed(0).padStart(4)} % |`;
    let line = '';
    for (const p of points) {
      const t = level(p.trainAccuracy) === r;
      const v = level(p.validationAccuracy) === r;
      line += (t && v ? 'TV' : t ? 'T' : v ? 'V' : '').padStart(col / 2 + 1).padEnd(col);
    }
    rows.push(axis + line);
  }
  rows.push(`${''.padStart(7)}+${'-'.repeat(col * points.length)}`);
  rows.push(
    `${''.padStart(8)}${points
      .map((p) =>
        String(p.size)
          .padStart(col / 2 + 2)
          .padEnd(col),
      )
      .join('')}`,
  );
  rows.push(`${''.padStart(8)}training windows   (T training accuracy, V validation accuracy)`);
  return rows;
}

/** One line per scored sequence (file, and flow for traces): where the errors are. */
export function perSequenceLines(runs: readonly SequenceRun[]): string[] {
  if (runs.length < 2) return [];
  return runs.map((r) => {
    const e = evaluateOutcomes([r]);
    const name = sequenceName(r);
    return `  ${name.padEnd(40)} ${String(e.windows).padStart(6)} windows  ${e.windows ? pct(e.accuracy) : '—'}`;
  });
}
