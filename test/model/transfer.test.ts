import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { fitScales } from '../../src/model/context';
import { identityIndex, runSpan } from '../../src/model/evaluate';
import { DEFAULT_TRAIN_OPTIONS, trainModel, wholeSpans } from '../../src/model/train';
import { LEVELS_TRANSFER, levelTransfer } from '../../src/model/transfer';
import type { DataSet, Sequence } from '../../src/model/types';
import { mulberry32 as rng } from '../../src/util/rng';
import { spymate, tmpDir } from '../../src/testkit/spymate-cli';

/** Alternating 30 s states (a person first, unless `emptyFirst`); bytes per window `person`/`background` ±10 %, and a column of noise. */
function call(seed: number, person: number, background: number, n = 480, emptyFirst = false): Sequence {
  const r = rng(seed);
  const labels = Int8Array.from({ length: n }, (_, i) => ((Math.floor(i / 60) % 2 === 0) !== emptyFirst ? 1 : 0));
  const rows = Array.from(labels, (l) => Float64Array.of((l ? person : background) * (0.9 + 0.2 * r()), 100 * r()));
  return { source: `c${seed}`, flow: `c${seed}`, times: Float64Array.from(labels, (_, i) => i / 2), rows, labels };
}

const dataSet = (seqs: Sequence[]): DataSet => ({
  features: ['bytes', 'noise'],
  windowMs: 500,
  sequences: seqs,
  inputs: [],
});

/** levelTransfer with the training scales, as fitSpans calls it. */
function transferOf(calls: Sequence[]): number | null {
  const spans = wholeSpans(calls);
  return levelTransfer(
    spans,
    fitScales(
      2,
      calls.flatMap((c) => c.rows),
    ),
  );
}

test('levels carry over between calls of one setup, not between calls whose levels differ', () => {
  const same = transferOf([call(1, 4000, 1000), call(2, 4000, 1000)])!;
  assert.ok(same > 0.95, `one setup: ${same}`);
  // the second call's empty room sends what the first call's person did
  const shifted = transferOf([call(1, 4000, 1000), call(2, 16000, 4000)])!;
  assert.ok(shifted < LEVELS_TRANSFER, `shifted levels: ${shifted}`);
  // the worst pair decides: one odd call among three
  const odd = transferOf([call(1, 4000, 1000), call(2, 4000, 1000), call(3, 16000, 4000)])!;
  assert.ok(odd < LEVELS_TRANSFER, `one odd call: ${odd}`);
  assert.equal(transferOf([call(1, 4000, 1000)]), null, 'one call: nothing to compare');
});

test("'auto' adds absolute levels only when they carry over, and the model says why", () => {
  const with1 = trainModel(
    dataSet([call(1, 4000, 1000), call(2, 4000, 1000)]),
    { ...DEFAULT_TRAIN_OPTIONS, trees: 8 },
    't',
  );
  assert.equal(with1.context.absolute, true);
  assert.ok(with1.normalisation.derived.includes('bytes:level'));
  assert.ok(with1.training.levelTransfer! >= LEVELS_TRANSFER);
  assert.equal(with1.training.options.absolute, true);
  const without = trainModel(
    dataSet([call(1, 4000, 1000), call(2, 16000, 4000)]),
    { ...DEFAULT_TRAIN_OPTIONS, trees: 8 },
    't',
  );
  assert.equal(without.context.absolute, false);
  assert.ok(!without.normalisation.derived.includes('bytes:level'));
  const forced = trainModel(
    dataSet([call(1, 4000, 1000), call(2, 4000, 1000)]),
    { ...DEFAULT_TRAIN_OPTIONS, trees: 8, absolute: false },
    't',
  );
  assert.equal(forced.context.absolute, false);
  assert.equal(forced.training.levelTransfer, null, 'not measured when not asked');
});

test('a held-out call of the same setup that starts in the state the relative features cannot name yet', () => {
  // the training calls start with a person, the test call with the empty room: for its first 30 s
  // relative features have seen one state only, and what they learnt of call starts misleads
  const train = dataSet([call(1, 4000, 1000), call(2, 4000, 1000)]);
  const test = call(3, 4000, 1000, 480, true);
  const score = (absolute: boolean | 'auto'): number => {
    const m = trainModel(train, { ...DEFAULT_TRAIN_OPTIONS, trees: 8, absolute }, 't');
    const run = runSpan(m, wholeSpans([test])[0], identityIndex(2), 0.5);
    return run.final.filter((p, i) => p === run.labels[i]).length / run.labels.length;
  };
  const auto = score('auto');
  assert.ok(auto > 0.97, `auto ${auto}`);
  const relative = score(false);
  assert.ok(auto > relative, `levels help here: auto ${auto}, relative ${relative}`);
});

test('spymate train says whether it used absolute levels; --no-absolute and --absolute decide', () => {
  const dir = tmpDir();
  const csv = (s: Sequence): string =>
    ['bytes,noise,Person', ...s.rows.map((r, i) => `${r[0]},${r[1]},${s.labels[i]}`)].join('\n') + '\n';
  fs.writeFileSync(path.join(dir, 'a.csv'), csv(call(1, 4000, 1000)));
  fs.writeFileSync(path.join(dir, 'b.csv'), csv(call(2, 4000, 1000)));
  const auto = spymate(['train', 'a.csv', 'b.csv', '--cv', '0', '--trees', '5', '-o', 'm.json'], dir);
  assert.equal(auto.code, 0, auto.stderr);
  assert.match(
    auto.stderr,
    /^absolute levels used: they carry over between the training calls \(transfer 1\.00 >= 0\.8; --no-absolute to drop them\)$/m,
  );
  const off = spymate(['train', 'a.csv', 'b.csv', '--cv', '0', '--trees', '5', '--no-absolute', '-o', 'm2.json'], dir);
  assert.equal(off.code, 0, off.stderr);
  assert.doesNotMatch(off.stderr, /absolute levels/);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'm2.json'), 'utf8')).context.absolute, false);
  const on = spymate(['train', 'a.csv', '--cv', '0', '--trees', '5', '--absolute', '-o', 'm3.json'], dir);
  assert.equal(on.code, 0, on.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(dir, 'm3.json'), 'utf8')).context.absolute, true);
});
