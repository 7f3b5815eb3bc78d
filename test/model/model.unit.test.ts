import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { contiguousFolds, crossValidate, learningCurve, LEARNING_FRACTIONS, trainingSpans } from '../../src/model/cv';
import { identityIndex, runSpan } from '../../src/model/evaluate';
import { loadModel, saveModel } from '../../src/model/load';
import { DEFAULT_TRAIN_OPTIONS, trainModel, wholeSpans } from '../../src/model/train';
import type { Algorithm, DataSet, Sequence } from '../../src/model/types';
import { UserError } from '../../src/util/errors';
import { mulberry32 as rng } from '../../src/util/rng';
import { tempDir } from '../../src/testkit/temp';

/** A call whose first feature jumps 4× with a person; the second is noise. */
function separable(seed: number, n = 600): Sequence {
  const r = rng(seed);
  const labels = Int8Array.from({ length: n }, (_, i) => (Math.floor(i / 60) % 2 === 0 ? 0 : 1));
  const rows = Array.from(labels, (l) => Float64Array.of((l ? 4000 : 1000) * (0.9 + 0.2 * r()), 100 * r()));
  return { source: `s${seed}`, flow: `s${seed}`, times: Float64Array.from(labels, (_, i) => i / 2), rows, labels };
}

function dataSet(seqs: Sequence[]): DataSet {
  return { features: ['bytes', 'noise'], windowMs: 500, sequences: seqs, inputs: [] };
}

for (const algo of ['logreg', 'rf', 'cart'] as Algorithm[]) {
  test(`${algo} learns a separable set and scores it on another call`, () => {
    const m = trainModel(dataSet([separable(1), separable(2)]), { ...DEFAULT_TRAIN_OPTIONS, algo, trees: 10 }, 'test');
    const run = runSpan(m, wholeSpans([separable(3)])[0], identityIndex(2), 0.5);
    const ok = run.final.reduce((a, p, i) => a + (p === run.labels[i] ? 1 : 0), 0);
    assert.ok(ok / run.labels.length > 0.9, `${algo}: ${ok}/${run.labels.length}`);
  });
}

test('cross-validation folds are contiguous blocks and never share a window with their training part', () => {
  const seqs = [separable(1, 103), separable(2, 250)];
  const folds = contiguousFolds(seqs, 5);
  const seen = new Map<Sequence, number[]>();
  for (const fold of folds) {
    for (const v of fold) {
      seen.set(v.seq, [...(seen.get(v.seq) ?? []), v.to - v.from]);
      for (const t of trainingSpans(
        fold.filter((x) => x.seq === v.seq),
        3,
      )) {
        assert.ok(
          t.to <= v.from - 3 || t.from >= v.to + 3,
          `train ${t.from}-${t.to} touches validation ${v.from}-${v.to}`,
        );
      }
    }
  }
  // every window is validated exactly once
  assert.equal(
    seen.get(seqs[0])!.reduce((a, b) => a + b, 0),
    103,
  );
  assert.equal(
    seen.get(seqs[1])!.reduce((a, b) => a + b, 0),
    250,
  );
});

test('the learning curve reuses the cross-validation models for its 100 % point and gets the same curve', () => {
  const data = dataSet([separable(1, 300), separable(2, 300)]);
  const o = { ...DEFAULT_TRAIN_OPTIONS, trees: 5 };
  const own = learningCurve(data, o, 3);
  const cv = crossValidate(data, o, 3);
  assert.equal(cv.foldModels.length, 3);
  let steps = 0;
  const reused = learningCurve(data, o, 3, () => steps++, cv);
  assert.deepEqual(reused, own);
  assert.equal(steps, 3 * LEARNING_FRACTIONS.length);
  assert.ok(own[own.length - 1].validationAccuracy > 0.9, JSON.stringify(own));
  // a 100 % point comes from the given models: a broken model there must show in the curve
  const broken = {
    ...cv,
    foldModels: cv.foldModels.map(
      (m) =>
        m && {
          ...m,
          classifier: { kind: 'logreg' as const, l2: 1, weights: m.normalisation.mean.map(() => 0), bias: -50 },
        },
    ),
  };
  const withBroken = learningCurve(data, o, 3, undefined, broken);
  assert.deepEqual(withBroken.slice(0, -1), own.slice(0, -1));
  assert.ok(
    withBroken.at(-1)!.validationAccuracy < own.at(-1)!.validationAccuracy - 0.2,
    JSON.stringify(withBroken.at(-1)),
  );
  assert.throws(() => learningCurve(data, o, 4, undefined, cv), /4 folds, cross-validation had 3/);
});

test('predictions are causal: window t does not change when windows after t change', () => {
  const m = trainModel(dataSet([separable(1), separable(2)]), DEFAULT_TRAIN_OPTIONS, 'test');
  const a = separable(5);
  const b: Sequence = { ...a, rows: a.rows.map((r, i) => (i > 300 ? Float64Array.of(r[0] * 7, r[1] + 50) : r)) };
  const ra = runSpan(m, wholeSpans([a])[0], identityIndex(2), 0.5);
  const rb = runSpan(m, wholeSpans([b])[0], identityIndex(2), 0.5);
  for (let i = 0; i <= 300; i++) assert.equal(ra.prob[i], rb.prob[i], `window ${i}`);
  assert.ok(
    ra.prob.slice(301).some((p, i) => p !== rb.prob[301 + i]),
    'later windows must differ',
  );
});

test('training data with one class only is a clear error', () => {
  const one = separable(1);
  one.labels.fill(1);
  assert.throws(
    () => trainModel(dataSet([one]), DEFAULT_TRAIN_OPTIONS, 't'),
    (e: Error) => e instanceof UserError && /only person windows.*both classes/.test(e.message),
  );
});

test('the model file is versioned and checked on load: version, feature set, window length', () => {
  const dir = tempDir('model');
  const m = trainModel(dataSet([separable(1), separable(2)]), DEFAULT_TRAIN_OPTIONS, 'test');
  const file = path.join(dir, 'm.json');
  saveModel(file, m);
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  const loaded = loadModel(file, { windowMs: 500, featureNames: ['noise', 'bytes', 'extra'] });
  assert.deepEqual(loaded.features, ['bytes', 'noise']);
  // the predictor maps the caller's order by name
  const p = loaded.createPredictor(['noise', 'bytes']);
  const pr = p.push(Float64Array.of(5, 1000));
  assert.ok(pr.certainty >= 0 && pr.certainty <= 100 && (pr.presence === 0 || pr.presence === 1));
  assert.throws(
    () => loadModel(file, { windowMs: 250 }),
    /trained on 500 ms windows, this run uses 250 ms; use --window 500/,
  );
  assert.throws(() => loadModel(file, { featureNames: ['bytes'] }), /needs feature noise that the data does not have/);
  const old = path.join(dir, 'old.json');
  fs.writeFileSync(old, JSON.stringify({ ...m, version: 7, createdBy: 'spymate 9.0.0' }));
  assert.throws(
    () => loadModel(old),
    /made by spymate 9\.0\.0 in model format 7, this spymate reads format 1; retrain with `spymate train`/,
  );
  const junk = path.join(dir, 'junk.json');
  fs.writeFileSync(junk, 'PK\u0003\u0004');
  assert.throws(() => loadModel(junk), /junk\.json: not JSON, so not a spymate model/);
  fs.writeFileSync(junk, '{"format":"other"}');
  assert.throws(() => loadModel(junk), /not a spymate model/);
  assert.throws(() => loadModel(path.join(dir, 'none.json')), /no such model file/);
});

test('prediction runs at ≥ 50 000 windows/s (12 features, logreg and rf)', () => {
  for (const algo of ['logreg', 'rf'] as Algorithm[]) {
    const m = trainModel(dataSet([separable(1), separable(2)]), { ...DEFAULT_TRAIN_OPTIONS, algo }, 'speed');
    const dir = tempDir('model');
    saveModel(path.join(dir, 'm.json'), m);
    const p = loadModel(path.join(dir, 'm.json')).createPredictor(['bytes', 'noise']);
    const x = Float64Array.of(1000, 5);
    const n = 100_000;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < n; i++) {
      x[0] = i % 120 < 60 ? 1000 : 4000;
      p.push(x);
    }
    const rate = n / (Number(process.hrtime.bigint() - t0) / 1e9);
    assert.ok(rate >= 50_000, `${algo}: ${Math.round(rate)} windows/s`);
  }
});
