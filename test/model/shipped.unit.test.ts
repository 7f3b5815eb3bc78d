import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { FEATURE_NAMES } from '../../src/features/names';
import { DEFAULT_MODEL_PATH, loadModel } from '../../src/model/load';

test("the shipped model loads for the extractor's features and 500 ms windows, and is world-readable", () => {
  const m = loadModel(DEFAULT_MODEL_PATH, { windowMs: 500, featureNames: FEATURE_NAMES });
  assert.equal(m.windowMs, 500);
  assert.ok(m.meta.trainedOn.length > 0, 'says what it was trained on');
  assert.ok(m.meta.training.inputs.every((i) => /^[0-9a-f]{64}$/.test(i.sha256)));
  assert.equal(fs.statSync(DEFAULT_MODEL_PATH).mode & 0o044, 0o044, 'installed for every user: mode 0644');
  const p = m.createPredictor(FEATURE_NAMES);
  const x = new Float64Array(FEATURE_NAMES.length);
  for (let i = 0; i < 20; i++) {
    x.fill(i % 2 ? 1000 : 100);
    const r = p.push(x);
    assert.ok(r.probability >= 0 && r.probability <= 1 && r.certainty >= 0 && r.certainty <= 100);
  }
});
