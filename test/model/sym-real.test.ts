import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { SYM_SOURCES, symCsv } from '../../src/lab/experiments/sym-csv';
import { LAB_DIR, labLocalIp, spymate, tmpDir } from '../../src/testkit/spymate-cli';
import { SYM_FEATURES } from '../../src/lab/experiments/synth';
import { meanAccuracy, oneSetupRotations, setups, SYM_DIR } from '../../src/lab/experiments/sym-real';

/**
 * The acceptance procedure of the models issue (train on two calls in the Spy Your Mate CSV form,
 * `eval --json` on a third, default options) on real lab WebRTC calls, three per sender setup.
 * Floors are the figures measured when the calls were recorded (docs/results.md, "Limits"), less a point.
 */
const FLOORS: Record<string, number> = {
  'vp8-quiet': 0.95, // measured 96.4 %
  'h264-1000k': 0.96, // 97.2 %
  'vp9-500k-noisy': 0.78, // 79.8 %: the cap is filled by sensor noise in both states
  'vp8-uncapped-noisy': 0.71, // 72.6 %: so is Chromium's own ceiling
  'vp8-600k-quiet': 0.97, // 98.5 %
  'vp9-uncapped-quiet': 0.71, // 72.9 %: VP9 fills the ceiling even with a quiet camera
};

test("real calls in the Spy Your Mate form: the report's columns, one sequence each, both classes", () => {
  const bySetup = setups(SYM_DIR);
  assert.deepEqual([...bySetup.keys()].sort(), Object.keys(FLOORS).sort());
  for (const calls of bySetup.values()) {
    for (const f of calls) {
      const lines = fs.readFileSync(path.join(SYM_DIR, f), 'utf8').trim().split('\n');
      assert.equal(lines[0], ['', 'Time Interval', ...SYM_FEATURES, 'Person'].join(','), f);
      assert.ok(lines.length > 250, `${f}: ${lines.length - 1} windows`);
      const classes = new Set(lines.slice(1).map((l) => l.split(',').at(-1)));
      assert.deepEqual([...classes].sort(), ['0', '1'], f);
    }
  }
});

test("sym-csv: a recording in the report's form holds exactly what spymate extract --labels writes for its call, labelled windows only", async () => {
  const name = 'office-vp8';
  const trace = path.join(LAB_DIR, `${name}.pcapng.gz`);
  const dir = tmpDir();
  const ex = spymate(
    [
      'extract',
      trace,
      '--labels',
      path.join(LAB_DIR, `${name}.labels.csv`),
      '--local',
      labLocalIp(name),
      '-o',
      'w.csv',
      '-q',
    ],
    dir,
  );
  assert.equal(ex.code, 0, ex.stderr);
  const [head, ...rows] = fs
    .readFileSync(path.join(dir, 'w.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = (c: string): number => head.indexOf(c);
  const labelled = rows.filter((r) => r[col('label')] !== '');
  const sym = (await symCsv(trace))
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  assert.equal(sym.length - 1, labelled.length);
  assert.ok(labelled.length < rows.length, 'the windows outside the schedule are left out');
  labelled.forEach((r, i) => {
    const s = sym[i + 1];
    assert.equal(s[0], String(i));
    assert.equal(s[1], `${(i * 0.5).toFixed(1)}-${((i + 1) * 0.5).toFixed(1)}`);
    SYM_SOURCES.forEach((src, k) =>
      assert.equal(Number(s[2 + k]), Number(r[col(src)]), `${SYM_FEATURES[k]} = ${src}, window ${i}`),
    );
    assert.equal(s[14], r[col('label')]);
  });
});

test('real calls of one setup: train on two, eval on the third, through the CLI (measured 96–99 % where the empty room costs less, 73–80 % where the room fills the budget)', () => {
  const rows = oneSetupRotations();
  assert.equal(rows.length, 3 * Object.keys(FLOORS).length);
  for (const [setup, floor] of Object.entries(FLOORS)) {
    const m = meanAccuracy(rows.filter((r) => r.setup === setup));
    assert.ok(m >= floor, `${setup}: mean ${m} < ${floor}`);
  }
  // where the twelve features see presence, no held-out call falls far from the 95 % target
  for (const r of rows.filter((x) => FLOORS[x.setup] >= 0.95))
    assert.ok(r.accuracy >= 0.92, `${r.test}: ${r.accuracy}`);
});
