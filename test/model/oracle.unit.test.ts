import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RandomForestClassifier } from 'ml-random-forest';
import { fitForest, forestProbability, type ForestOptions } from '../../src/model/forest';
import { mulberry32 as rng } from '../../src/util/rng';

/**
 * The product brief names ml-cart and ml-random-forest as the model packages. Their exhaustive
 * split search is too slow to train on real data (docs/models.md), so src/model/forest.ts is our
 * own histogram CART/forest; the libraries serve as oracles here: on data small enough for them,
 * our trees must be as good as theirs and choose the same split where the answer is clear.
 */

interface CartTree {
  train(x: number[][], y: number[]): void;
  predict(x: number[][]): number[];
  root: { splitColumn: number; splitValue: number };
}
// ml-cart ships no type declarations
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DecisionTreeClassifier } = require('ml-cart') as {
  DecisionTreeClassifier: new (o: { gainFunction: 'gini'; maxDepth: number; minNumSamples: number }) => CartTree;
};

interface Rows {
  x: number[][];
  y: number[];
}

/** Two informative features with an XOR-like, non-axis-aligned boundary, label noise, and noise features. */
function dataset(seed: number, n: number): Rows {
  const r = rng(seed);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = [r(), r(), r(), r()];
    let l = row[0] > 0.5 !== row[1] + 0.2 * row[0] > 0.6 ? 1 : 0;
    if (r() < 0.08) l = 1 - l;
    x.push(row);
    y.push(l);
  }
  return { x, y };
}

function ours(train: Rows, o: ForestOptions): (row: number[]) => number {
  const m = fitForest(
    train.x.map((r) => Float64Array.from(r)),
    Uint8Array.from(train.y),
    new Float64Array(train.y.length).fill(1),
    o,
  );
  return (row) => (forestProbability(m, Float64Array.from(row)) >= 0.5 ? 1 : 0);
}

function accuracy(pred: number[], y: number[]): number {
  return pred.filter((p, i) => p === y[i]).length / y.length;
}

const train = dataset(11, 400);
const heldOut = dataset(12, 300);

test('our CART matches ml-cart (DecisionTreeClassifier) on held-out rows within 4 points', () => {
  const ref = new DecisionTreeClassifier({ gainFunction: 'gini', maxDepth: 5, minNumSamples: 10 });
  ref.train(train.x, train.y);
  const refAcc = accuracy(ref.predict(heldOut.x), heldOut.y);
  const cart = ours(train, { trees: 1, bootstrap: false, seed: 1, maxDepth: 5, minLeaf: 5, featuresPerSplit: 4 });
  const ourAcc = accuracy(heldOut.x.map(cart), heldOut.y);
  assert.ok(refAcc > 0.75, `the task is learnable (ml-cart ${refAcc})`);
  assert.ok(Math.abs(ourAcc - refAcc) <= 0.04, `ours ${ourAcc} vs ml-cart ${refAcc}`);
});

test('on one clear split, our CART and ml-cart pick the same feature and threshold region', () => {
  const r = rng(5);
  const x: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < 300; i++) {
    const row = [r(), r(), r()];
    x.push(row);
    y.push(row[1] >= 0.62 ? 1 : 0);
  }
  const ref = new DecisionTreeClassifier({ gainFunction: 'gini', maxDepth: 1, minNumSamples: 3 });
  ref.train(x, y);
  const m = fitForest(
    x.map((row) => Float64Array.from(row)),
    Uint8Array.from(y),
    new Float64Array(y.length).fill(1),
    { trees: 1, bootstrap: false, seed: 1, maxDepth: 1, minLeaf: 1, featuresPerSplit: 3 },
  );
  const t = m.trees[0];
  assert.equal(ref.root.splitColumn, 1);
  assert.equal(t.feature[0], 1);
  assert.ok(Math.abs(ref.root.splitValue - 0.62) < 0.02, `ml-cart threshold ${ref.root.splitValue}`);
  // 32 quantile bins over [0, 1]: our threshold lies within one bin (~0.03) of the true edge
  assert.ok(Math.abs(t.threshold[0] - 0.62) < 0.04, `our threshold ${t.threshold[0]}`);
  assert.ok(t.value[t.left[0]] < 0.1 && t.value[t.right[0]] > 0.9, 'left = background, right = person');
});

test('our random forest matches ml-random-forest (RandomForestClassifier) on held-out rows within 4 points', () => {
  const ref = new RandomForestClassifier({
    nEstimators: 25,
    maxFeatures: 1.0,
    replacement: false,
    useSampleBagging: true,
    seed: 3,
    noOOB: true,
    treeOptions: { gainFunction: 'gini', maxDepth: 5, minNumSamples: 10 },
  });
  ref.train(train.x, train.y);
  const refAcc = accuracy(ref.predict(heldOut.x), heldOut.y);
  const rf = ours(train, { trees: 25, bootstrap: true, seed: 3, maxDepth: 5, minLeaf: 5, featuresPerSplit: 2 });
  const ourAcc = accuracy(heldOut.x.map(rf), heldOut.y);
  assert.ok(refAcc > 0.75, `the task is learnable (ml-random-forest ${refAcc})`);
  assert.ok(Math.abs(ourAcc - refAcc) <= 0.04, `ours ${ourAcc} vs ml-random-forest ${refAcc}`);
});
