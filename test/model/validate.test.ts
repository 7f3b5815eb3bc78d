/**
 * Crafted model files: each is refused on load in one line naming the file and what is wrong (exit
 * 1 from the CLI), in bounded time; none hangs, gives NaN, or ends in "internal error".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEFAULT_MODEL_PATH, loadModel } from '../../src/model/load';
import type { ModelFile } from '../../src/model/types';
import { FEATURE_NAMES } from '../../src/features/names';
import { UserError } from '../../src/util/errors';
import { cliEnv, SPYMATE, tmpDir } from '../../src/testkit/spymate-cli';
import { BIN as SPYMATE_TUI } from '../live/run-cli';
import { writeTwoCalls } from '../live/call-trace';

const shipped = (): ModelFile => JSON.parse(fs.readFileSync(DEFAULT_MODEL_PATH, 'utf8')) as ModelFile;

type Edit = (m: ModelFile) => void;
const forest = (m: ModelFile) =>
  m.classifier.kind === 'forest' ? m.classifier : assert.fail('the shipped model is a forest');
/** the first internal node of tree 0 */
const inner = (m: ModelFile) => forest(m).trees[0].feature.findIndex((f) => f >= 0);

const CRAFTED: Array<[string, Edit, RegExp]> = [
  [
    'a node that points to itself',
    (m) => (forest(m).trees[0].left[inner(m)] = inner(m)),
    /tree 0 node \d+: left child \d+ is reached twice \(a loop: prediction would never end\)/,
  ],
  [
    'a child that points back to the root',
    (m) => {
      const t = forest(m).trees[3];
      const leafParent = t.feature.findIndex((f, i) => f >= 0 && t.feature[t.right[i]] < 0);
      t.right[leafParent] = 0;
    },
    /tree 3 node \d+: right child 0 is reached twice/,
  ],
  [
    'a child out of range',
    (m) => (forest(m).trees[1].right[0] = 99999),
    /tree 1 node 0: right child 99999 is not one of the tree's \d+ nodes/,
  ],
  [
    'a feature index of 1e6',
    (m) => (forest(m).trees[2].feature[0] = 1e6),
    /tree 2 node 0: feature 1000000 is not one of the model's \d+ derived features/,
  ],
  [
    'an empty tree',
    (m) => (forest(m).trees[0] = { feature: [], threshold: [], left: [], right: [], value: [] }),
    /tree 0 has no nodes/,
  ],
  ['no trees', (m) => (forest(m).trees = []), /the forest has no trees/],
  [
    'a huge context size',
    (m) => (m.context.windows = 1e9),
    /context windows 1000000000 is not a whole number from 1 to 1000/,
  ],
  [
    'a NaN-making leaf',
    (m) => (forest(m).trees[0].value[forest(m).trees[0].feature.findIndex((f) => f < 0)] = 7),
    /leaf probability 7 is not from 0 to 1/,
  ],
  [
    'a null threshold',
    (m) => (forest(m).trees[0].threshold[inner(m)] = null as never),
    /threshold null is not a finite number/,
  ],
  ['a zero scale', (m) => (m.context.scales[0] = 0), /context scales\[0\] is 0, not above 0/],
  ['a negative std', (m) => (m.normalisation.std[0] = -1), /normalisation std\[0\] is -1, not a finite number ≥ 0/],
  ['a hysteresis of 3', (m) => (m.smoothing.hysteresis = 3), /smoothing hysteresis 3 is not from 0 to below 0\.5/],
  ['a duplicate feature', (m) => (m.features[1] = m.features[0]), /a feature name appears twice/],
  [
    'a fractional composite index',
    (m) => ((m.context.composites ?? [])[0].frameCv = 1.5),
    /context composite 0 does not name two/,
  ],
];

test('crafted models are refused on load, each in one line naming the file and what is wrong', () => {
  const dir = tmpDir();
  for (const [name, edit, re] of CRAFTED) {
    const m = shipped();
    edit(m);
    const file = path.join(dir, 'crafted.json');
    fs.writeFileSync(file, JSON.stringify(m));
    const t0 = Date.now();
    assert.throws(
      () => loadModel(file, { windowMs: 500, featureNames: FEATURE_NAMES }),
      (e: unknown) =>
        e instanceof UserError &&
        e.message.startsWith(`${file}: damaged spymate model (`) &&
        e.message.endsWith('retrain with `spymate train`') &&
        re.test(e.message) &&
        !e.message.includes('\n'),
      name,
    );
    assert.ok(Date.now() - t0 < 2000, `${name}: refused in bounded time`);
  }
  // the shipped model itself passes
  loadModel(DEFAULT_MODEL_PATH, { windowMs: 500, featureNames: FEATURE_NAMES });
});

test('a crafted model stops eval and the monitor with exit 1 in seconds, not at 100 % CPU forever', () => {
  const dir = tmpDir();
  const m = shipped();
  forest(m).trees[0].left[inner(m)] = inner(m);
  const loop = path.join(dir, 'loop.json');
  fs.writeFileSync(loop, JSON.stringify(m));
  const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 6, 3);
  for (const argv of [
    [SPYMATE, 'eval', '--model', loop, trace, '--labels', path.join(dir, 'l.csv')],
    [SPYMATE_TUI, '-f', trace, '--speed', 'max', '--headless', '--model', loop, '--db', path.join(dir, 'x.db')],
  ]) {
    fs.writeFileSync(path.join(dir, 'l.csv'), 'start,end,label\n0,100,person\n');
    const r = spawnSync(process.execPath, argv, { encoding: 'utf8', timeout: 20_000, env: cliEnv() });
    assert.equal(r.signal, null, `${argv[1]}: killed after 20 s (a hang)`);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /loop\.json: damaged spymate model \(tree 0 node \d+: left child \d+ is reached twice/);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('--model naming a device, a pipe or a huge file is refused without reading it', () => {
  const dir = tmpDir();
  const fifo = path.join(dir, 'fifo.json');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  const huge = path.join(dir, 'huge.json');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 300 * 2 ** 20);
  for (const [file, re] of [
    ['/dev/zero', /\/dev\/zero: not a regular file/],
    [fifo, /fifo\.json: not a regular file/],
    [huge, /huge\.json: 300 MiB, too large for a model JSON file \(at most 256 MiB\)/],
  ] as const) {
    const t0 = Date.now();
    assert.throws(
      () => loadModel(file),
      (e: unknown) => e instanceof UserError && re.test(e.message),
    );
    assert.ok(Date.now() - t0 < 2000);
  }
});

test('feature names from a model are echoed with their control characters escaped', () => {
  const dir = tmpDir();
  const m = shipped();
  m.features[0] = 'evil\u001b]0;pwned\u0007\u001b[2J';
  const file = path.join(dir, 'evil.json');
  fs.writeFileSync(file, JSON.stringify(m));
  fs.writeFileSync(path.join(dir, 'a.csv'), 'x,label\n1,1\n5,0\n3,1\n');
  const r = spawnSync(process.execPath, [SPYMATE, 'predict', '--model', file, path.join(dir, 'a.csv')], {
    encoding: 'utf8',
    env: cliEnv(),
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /the model needs features evil\\x1b\]0;pwned\\x07\\x1b\[2J, /);
  assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f]/, 'no raw control character reaches the terminal');
});
