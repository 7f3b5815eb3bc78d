import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ContextState, DEFAULT_CONTEXT, derivedNames } from '../../src/model/context';
import { detectionDelays, evaluateOutcomes } from '../../src/model/metrics';
import { Smoother } from '../../src/model/predictor';

test('hold: the final label flips only after the evidence persists for N windows', () => {
  const s = new Smoother({ halfLifeWindows: 0, hysteresis: 0, holdWindows: 3 });
  const out = [0.2, 0.9, 0.9, 0.1, 0.9, 0.9, 0.9, 0.9].map((p) => (s.push(p), s.presence));
  assert.deepEqual(out, [0, 0, 0, 0, 0, 0, 1, 1]);
});

test('hysteresis: the smoothed probability must cross 0.5 ± h', () => {
  const s = new Smoother({ halfLifeWindows: 0, hysteresis: 0.2, holdWindows: 1 });
  const out = [0.1, 0.6, 0.69, 0.71, 0.4, 0.31, 0.29].map((p) => (s.push(p), s.presence));
  assert.deepEqual(out, [0, 0, 0, 1, 1, 1, 0]);
});

test('detection delay: seconds from each true change to the first matching final prediction', () => {
  const labels = Int8Array.from([0, 0, 0, 1, 1, 1, 1, -1, 0, 0, 0, 0]);
  const final = Uint8Array.from([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1]);
  const d = detectionDelays({ labels, raw: final, final, windowS: 0.5 });
  // 0→1 at index 3, followed at 5 (1.0 s); 1→0 at index 8, never followed: missed
  assert.deepEqual(d, { delays: [1], missed: 1 });
  const e = evaluateOutcomes([{ labels, raw: final, final, windowS: 0.5 }]);
  assert.equal(e.windows, 11);
  assert.deepEqual(e.confusion, { tp: 2, fp: 4, tn: 3, fn: 2 });
  assert.equal(e.delayS, 1);
});

test('context: missing and infinite values count as 0 and do not poison later windows', () => {
  const p = { ...DEFAULT_CONTEXT, scales: [1, 1], absolute: false };
  const a = new ContextState(p);
  const b = new ContextState(p);
  const width = derivedNames(['x', 'y']).length;
  const oa = new Float64Array(width);
  const ob = new Float64Array(width);
  for (let i = 0; i < 50; i++) {
    const x = i % 10 < 5 ? 100 : 400;
    a.push(Float64Array.of(x, i === 3 ? NaN : i === 4 ? Infinity : 7), oa);
    b.push(Float64Array.of(x, i === 3 || i === 4 ? 0 : 7), ob);
    assert.ok(oa.every(Number.isFinite), `window ${i}`);
  }
  assert.deepEqual(oa, ob);
});
