import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { FEATURE_NAMES } from '../../src/features/names';
import { compositesFor, compositeValue } from '../../src/model/composite';
import { ContextState, DEFAULT_CONTEXT, derivedNames, shapeLevelColumns } from '../../src/model/context';
import { identityIndex, runSpan } from '../../src/model/evaluate';
import { mulberry32 as rng } from '../../src/util/rng';
import { loadModel, saveModel } from '../../src/model/load';
import { DEFAULT_TRAIN_OPTIONS, trainModel, wholeSpans } from '../../src/model/train';
import type { DataSet, Sequence } from '../../src/model/types';
import { tempDir } from '../../src/testkit/temp';
import { SYM_FEATURES } from '../../src/lab/experiments/synth';

test('frame regularity is added per direction when the inputs have frame bytes and frame CV, never for the 12-feature CSV form', () => {
  const c = compositesFor(FEATURE_NAMES);
  assert.deepEqual(
    c.map((k) => k.name),
    ['in_frame_regularity', 'out_frame_regularity', 'all_frame_regularity'],
  );
  const out = c[1];
  assert.equal(FEATURE_NAMES[out.frameBytes], 'out_avg_burst_bytes');
  assert.equal(FEATURE_NAMES[out.frameCv], 'out_burst_cv');
  assert.deepEqual(compositesFor(SYM_FEATURES), []);
  assert.deepEqual(compositesFor(['out_avg_burst_bytes']), [], 'both parts are needed');
  const x = new Float64Array(FEATURE_NAMES.length);
  x[out.frameBytes] = 2999;
  x[out.frameCv] = 0.5;
  assert.equal(compositeValue(out, x), 2000);
  x[out.frameCv] = -1; // a damaged input counts as 0, never a division by ≤ 0
  assert.equal(compositeValue(out, x), 3000);
});

const NAMES = ['out_bytes', 'out_avg_burst_bytes', 'out_burst_cv'];

/**
 * The two lab regimes in miniature. Headroom: a person doubles bytes and frame size and raises
 * the frame-size CV. At the cap: bytes and frame size stay, and the empty room's frames vary more.
 */
function call(seed: number, atCap: boolean): Sequence {
  const r = rng(seed);
  const n = 480;
  const labels = Int8Array.from({ length: n }, (_, i) => (Math.floor(i / 60 + seed) % 2 === 0 ? 0 : 1));
  const level = 500 + 3000 * r();
  const rows = Array.from(labels, (l) => {
    const j = (): number => 0.9 + 0.2 * r();
    const frame = (atCap || !l ? level : 2.2 * level) * j();
    const cv = (atCap ? (l ? 0.15 : 0.5) : l ? 0.15 : 0.02) * j();
    return Float64Array.of(frame * 12 * j(), frame, cv);
  });
  return { source: `c${seed}`, flow: `c${seed}`, times: Float64Array.from(labels, (_, i) => i / 2), rows, labels };
}

function accuracyOn(seq: Sequence, frameRegularity: boolean): number {
  const train: DataSet = {
    features: NAMES,
    windowMs: 500,
    sequences: [call(1, false), call(2, true), call(3, false), call(4, true)],
    inputs: [],
  };
  const m = trainModel(train, { ...DEFAULT_TRAIN_OPTIONS, frameRegularity, trees: 20 }, 'test');
  const run = runSpan(m, wholeSpans([seq])[0], identityIndex(NAMES.length), 0.5);
  return run.final.reduce((a, p, i) => a + (p === run.labels[i] ? 1 : 0), 0) / run.labels.length;
}

// On calls this clean the forest separates the regimes without the composite too; its value shows
// on the lab recordings (test/model/loo.test.ts, docs/results.md). This checks the composite path end to end.
test('with frame regularity a model trained on both regimes classifies new calls of each', () => {
  for (const atCap of [false, true]) {
    const acc = accuracyOn(call(9, atCap), true);
    assert.ok(acc >= 0.85, `${atCap ? 'at the cap' : 'headroom'}: ${acc}`);
  }
});

test('a model with composites survives save/load, maps inputs by name in any order, and old model files without composites still load', () => {
  const train: DataSet = { features: NAMES, windowMs: 500, sequences: [call(1, false), call(2, true)], inputs: [] };
  const m = trainModel(train, { ...DEFAULT_TRAIN_OPTIONS, trees: 8 }, 'test');
  assert.equal(m.context.composites?.length, 1);
  assert.ok(m.normalisation.derived.includes('out_frame_regularity:place'));
  const dir = tempDir('model');
  const file = path.join(dir, 'm.json');
  saveModel(file, m);
  const seq = call(5, true);
  const expected = runSpan(m, wholeSpans([seq])[0], identityIndex(NAMES.length), 0.5).rawP;
  // the live meter pushes its own vector: more features, another order
  const live = ['noise', 'out_burst_cv', 'out_bytes', 'out_avg_burst_bytes'];
  const p = loadModel(file, { windowMs: 500, featureNames: live }).createPredictor(live);
  seq.rows.forEach((r, i) => {
    const got = p.push(Float64Array.of(7, r[2], r[0], r[1])).rawProbability;
    assert.equal(got, expected[i], `window ${i}`);
  });

  const old = trainModel(
    train,
    { ...DEFAULT_TRAIN_OPTIONS, trees: 8, frameRegularity: false, shapeLevels: false },
    'test',
  );
  delete (old.context as { composites?: unknown }).composites;
  delete (old.context as { levels?: unknown }).levels;
  saveModel(file, old);
  assert.equal(loadModel(file).createPredictor(NAMES).push(seq.rows[0]).presence >= 0, true);

  const bad = JSON.parse(JSON.stringify(m)) as typeof m;
  (bad.context.composites ?? [])[0].frameCv = 99;
  fs.writeFileSync(file, JSON.stringify(bad));
  assert.throws(() => loadModel(file), /damaged spymate model \(context composites\)/);

  // cut short, or missing its derived names: refused, not run on half a vector
  const short = JSON.parse(JSON.stringify(m)) as typeof m;
  for (const k of ['derived', 'mean', 'std'] as const)
    short.normalisation[k] = short.normalisation[k].slice(0, 10) as never;
  fs.writeFileSync(file, JSON.stringify(short));
  assert.throws(() => loadModel(file), /damaged spymate model \(normalisation\)/);
  const noNames = JSON.parse(JSON.stringify(m)) as typeof m;
  delete (noNames.normalisation as { derived?: unknown }).derived;
  fs.writeFileSync(file, JSON.stringify(noNames));
  assert.throws(() => loadModel(file), /damaged spymate model \(normalisation\)/);
});

test('shape levels: the level of each dimensionless burst measure is given and of nothing else; a bad column index is refused', () => {
  assert.deepEqual(
    shapeLevelColumns(FEATURE_NAMES).map((i) => FEATURE_NAMES[i]),
    [
      'in_burst_cv',
      'in_burst_alternation',
      'out_burst_cv',
      'out_burst_alternation',
      'all_burst_cv',
      'all_burst_alternation',
    ],
  );
  assert.deepEqual(shapeLevelColumns(SYM_FEATURES), [], 'never in the 12-feature CSV form');
  const train: DataSet = { features: NAMES, windowMs: 500, sequences: [call(1, false), call(2, true)], inputs: [] };
  const m = trainModel(train, { ...DEFAULT_TRAIN_OPTIONS, trees: 8 }, 'test');
  assert.deepEqual(m.context.levels, [2]);
  assert.deepEqual(
    m.normalisation.derived.filter((d) => d.endsWith(':level')),
    ['out_burst_cv:level'],
  );
  const off = trainModel(train, { ...DEFAULT_TRAIN_OPTIONS, trees: 8, shapeLevels: false }, 'test');
  assert.equal(off.normalisation.derived.filter((d) => d.endsWith(':level')).length, 0);
  assert.equal(off.normalisation.derived.length, m.normalisation.derived.length - 1);
  // the level is the short mean of v = asinh(x / scale) over the last `windows` windows
  const ctx = new ContextState({ ...DEFAULT_CONTEXT, windows: 2, scales: [1, 0.5], absolute: false, levels: [1] });
  const names = derivedNames(['a', 'b'], false, [1]);
  const out = new Float64Array(names.length);
  for (const x of [
    [5, 1],
    [5, 2],
    [5, 4],
  ])
    ctx.push(x, out);
  assert.ok(Math.abs(out[names.indexOf('b:level')] - (Math.asinh(4) + Math.asinh(8)) / 2) < 1e-12);
  assert.equal(names.indexOf('a:level'), -1);
  const file = path.join(tempDir('model'), 'm.json');
  const bad = JSON.parse(JSON.stringify(m)) as typeof m;
  bad.context.levels = [99];
  fs.writeFileSync(file, JSON.stringify(bad));
  assert.throws(() => loadModel(file), /damaged spymate model \(context levels\)/);
});
