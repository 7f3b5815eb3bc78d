/**
 * How the defaults were chosen: compares training options on many held-out synthetic triples
 * (train on calls 3s+1 and 3s+2, score the causal final predictions on call 3s+3).
 * `node dist/src/lab/experiments/tune.js [N] [FIRST] [shared]` — figures in docs/results.md; `shared`:
 * the three calls of a triple come from one sender setup.
 */
import { DEFAULT_TRAIN_OPTIONS, type TrainOptions } from '../../model/train';
import { heldOut } from './heldout';

const N = Number(process.argv[2] ?? 30);
const FIRST = Number(process.argv[3] ?? 0);
const SHARED = process.argv[4] === 'shared';
const variants: [string, Partial<TrainOptions>][] = [
  ['default (rf)', {}],
  ['rf hold 2', { hold: 2 }],
  ['rf smooth 2', { smooth: 2 }],
  ['rf context 8', { context: 8 }],
  ['rf depth 6 leaf 40', { maxDepth: 6, minLeaf: 40 }],
  ['logreg', { algo: 'logreg' }],
  ['logreg l2 0.01', { algo: 'logreg', l2: 0.01 }],
  ['cart', { algo: 'cart', maxDepth: 5, minLeaf: 40 }],
  ['rf, no absolute levels', { absolute: false }],
  ['rf + absolute levels', { absolute: true }],
];
const mean = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
for (const [name, v] of variants) {
  const o = { ...DEFAULT_TRAIN_OPTIONS, ...v };
  const acc: number[] = [];
  const raw: number[] = [];
  const delay: number[] = [];
  for (let s = FIRST; s < FIRST + N; s++) {
    const e = heldOut(3 * s + 1, 3 * s + 2, 3 * s + 3, o, SHARED);
    acc.push(e.accuracy);
    raw.push(e.rawAccuracy);
    if (e.delayS !== null) delay.push(e.delayS);
  }
  const sorted = [...acc].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(22)} final mean ${(100 * mean(acc)).toFixed(1)} %  worst ${(100 * sorted[0]).toFixed(1)} %  p10 ${(100 * sorted[Math.floor(N / 10)]).toFixed(1)} %  raw ${(100 * mean(raw)).toFixed(1)} %  delay ${mean(delay).toFixed(1)} s`,
  );
}
