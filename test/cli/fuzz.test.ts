/**
 * Seeded, bounded fuzzing of what users hand the programs: models, labels and traces mutated from
 * valid ones, and command lines drawn from valid and invalid arguments (test/capture/fuzz.test.ts
 * fuzzes the trace reader itself). Every case must end in bounded time and memory with exit 0, 1
 * or 2, one line per error, no stack trace, no raw control character on the terminal, and every
 * file that was there before unchanged when the run failed (inputs unchanged always).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FEATURE_NAMES } from '../../src/features/names';
import { loadLabels } from '../../src/features/labels';
import { DEFAULT_MODEL_PATH, loadModel } from '../../src/model/load';
import type { ModelFile } from '../../src/model/types';
import { projectRoot } from '../../src/rules/paths';
import { mutateBytes, mutateJson, rng, type Rng } from '../../src/testkit/mutate';
import { cliEnv } from '../../src/testkit/spymate-cli';
import { tempDir } from '../../src/testkit/temp';
import { UserError } from '../../src/util/errors';
import { writeTwoCalls } from '../live/call-trace';

const ROOT = projectRoot();
const SPYMATE = path.join(ROOT, 'dist/src/cli/spymate.js');
const SPYMATE_TUI = path.join(ROOT, 'dist/src/cli/spymate-tui.js');
const RSS_PROBE = path.join(ROOT, 'dist/src/bench/rss-probe.js');
const SEED = 20261205;
/** raw control characters a terminal would act on (newline and tab are text) */
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;
const MAX_RSS_MB = 1024;
const CASE_MS = 30_000;

const shippedModel = (): ModelFile => JSON.parse(fs.readFileSync(DEFAULT_MODEL_PATH, 'utf8')) as ModelFile;

function oneLineError(e: unknown, what: string): void {
  if (!(e instanceof UserError)) throw new Error(`${what}: not a UserError: ${(e as Error).stack}`);
  assert.doesNotMatch(e.message, /\n/, what);
}

test('200 mutated models: refused in one line, or run with probabilities from 0 to 1, each in bounded time', () => {
  const dir = tempDir('fuzz-models');
  const r = rng(SEED);
  const base = shippedModel();
  const file = path.join(dir, 'm.json');
  const outcomes = { refused: 0, ran: 0 };
  const x = new Float64Array(FEATURE_NAMES.length);
  for (let round = 0; round < 200; round++) {
    const text =
      round % 4 === 3 ? mutateBytes(Buffer.from(JSON.stringify(base)), r, 3) : JSON.stringify(mutateJson(base, r));
    fs.writeFileSync(file, text);
    const t0 = Date.now();
    try {
      const p = loadModel(file, { windowMs: 500, featureNames: FEATURE_NAMES }).createPredictor(FEATURE_NAMES);
      for (let w = 0; w < 30; w++) {
        for (let i = 0; i < x.length; i++) x[i] = r.next() < 0.05 ? NaN : r.next() * 10 ** r.int(6);
        const out = p.push(x);
        for (const v of [out.probability, out.rawProbability])
          assert.ok(v >= 0 && v <= 1, `round ${round}: probability ${v}`);
      }
      outcomes.ran++;
    } catch (e) {
      oneLineError(e, `round ${round}`);
      outcomes.refused++;
    }
    assert.ok(Date.now() - t0 < 2000, `round ${round}: ${Date.now() - t0} ms`);
  }
  assert.ok(outcomes.refused > 50 && outcomes.ran > 10, JSON.stringify(outcomes));
});

test('100 mutated labels files: read, or refused in one line', () => {
  const dir = tempDir('fuzz-labels');
  const r = rng(SEED + 1);
  const lines = ['start,end,label', '# a comment'];
  for (let i = 0; i < 20; i++) lines.push(`${i * 10},${i * 10 + 10},${i % 2 ? 'background' : 'person'}`);
  const base = Buffer.from(lines.join('\n') + '\n');
  const file = path.join(dir, 'l.csv');
  const outcomes = { read: 0, refused: 0 };
  for (let round = 0; round < 100; round++) {
    // a third stay valid (CRLF, a comment with control characters, one more interval), the rest are damaged
    let b =
      round % 3 === 0
        ? Buffer.concat([base, Buffer.from(`# \u001b[2J\u001b]0;t\u0007\r\n${200 + r.int(100)},400,1\r\n`)])
        : mutateBytes(base, r, 2);
    if (round % 5 === 1) b = Buffer.concat([b, Buffer.from(`0,1,pers\u001b[2Jon\u001b]0;t\u0007\n`)]);
    fs.writeFileSync(file, b);
    try {
      loadLabels(file);
      outcomes.read++;
    } catch (e) {
      oneLineError(e, `round ${round}`);
      outcomes.refused++;
    }
  }
  assert.ok(outcomes.read > 20 && outcomes.refused > 20, JSON.stringify(outcomes));
});

interface Pool {
  dir: string;
  trace: string;
  badTraces: string[];
  models: string[];
  labels: string[];
  table: string;
  junk: string[];
}

/** The inputs the command lines draw from: good ones, damaged ones, and things that are no input at all. */
function makePool(r: Rng): Pool {
  const dir = tempDir('fuzz-cli');
  const trace = writeTwoCalls(path.join(dir, 'calls.pcap'), 8, 4);
  const good = fs.readFileSync(trace);
  const badTraces = [0, 1, 2].map((k) => {
    const f = path.join(dir, `bad${k}.pcap`);
    fs.writeFileSync(f, mutateBytes(good, r, 4));
    return f;
  });
  const models = [DEFAULT_MODEL_PATH];
  for (let k = 0; k < 3; k++) {
    const f = path.join(dir, `model${k}.json`);
    fs.writeFileSync(f, JSON.stringify(mutateJson(shippedModel(), r)));
    models.push(f);
  }
  const labels = [path.join(dir, 'good.labels.csv'), path.join(dir, 'evil\u001b[31m.labels.csv')];
  fs.writeFileSync(labels[0], 'start,end,label\n0,4,person\n4,8,background\n');
  fs.writeFileSync(labels[1], 'start,end,label\n0,4,per\u001b]0;owned\u0007son\n');
  const table = path.join(dir, 'table.csv');
  const rows = ['a,b,label'];
  for (let i = 0; i < 200; i++)
    rows.push(`${(i % 40 < 20 ? 5000 : 1000) + ((i * 7919) % 97)},3,${i % 40 < 20 ? 1 : 0}`);
  fs.writeFileSync(table, rows.join('\n') + '\n');
  const text = path.join(dir, 'notes.txt');
  fs.writeFileSync(text, 'not a trace, not a model\n');
  fs.mkdirSync(path.join(dir, 'subdir'));
  const junk = [
    text,
    path.join(dir, 'subdir'),
    path.join(dir, 'missing.pcap'),
    '/dev/null',
    '',
    '-x',
    'a'.repeat(3000),
  ];
  // outputs that exist before the runs: a failed run must leave them byte for byte
  for (const f of ['out.csv', 'out.json', 'out.ndjson', 'out.html'])
    fs.writeFileSync(path.join(dir, f), `earlier ${f}\n`);
  return { dir, trace, badTraces, models, labels, table, junk };
}

/** One random command line, valid or not. */
function commandLine(r: Rng, p: Pool, k: number): string[] {
  const out = (ext: string) =>
    r.pick([path.join(p.dir, `out.${ext}`), path.join(p.dir, `new${k}.${ext}`), p.trace, ...p.junk]);
  const traces = () => r.pick([[p.trace], [r.pick(p.badTraces)], [p.trace, r.pick(p.badTraces)], [r.pick(p.junk)]]);
  const maybe = (args: string[], chance = 0.5) => (r.next() < chance ? args : []);
  const window = () => maybe(['--window', r.pick(['500', '100', '50', 'abc', '900', '1e9'])], 0.3);
  const labels = () => maybe(['--labels', r.pick(p.labels)]);
  const model = () => ['--model', r.pick(p.models)];
  const noise = () => maybe([r.pick(['--nosuch', '--', '-', '\u001b[2J', '--max-flows', '--trees=-1'])], 0.15);
  switch (r.int(5)) {
    case 0:
      return [
        SPYMATE,
        'extract',
        ...traces(),
        ...labels(),
        ...window(),
        ...maybe(['--format', r.pick(['csv', 'ndjson', 'arff', 'xml'])], 0.3),
        ...maybe(['--max-flows', r.pick(['1', '100000', '-5'])], 0.2),
        '-q',
        '-o',
        out(r.pick(['csv', 'ndjson'])),
        ...noise(),
      ];
    case 1:
      return [
        SPYMATE,
        'train',
        ...r.pick([[p.table], [p.trace, '--labels', r.pick(p.labels)], [r.pick(p.junk)]]),
        '--algo',
        r.pick(['rf', 'cart', 'logreg', 'svm']),
        '--trees',
        r.pick(['1', '3', '0']),
        '--cv',
        r.pick(['0', '2', '99']),
        '-o',
        out('json'),
        ...noise(),
      ];
    case 2:
      return [
        SPYMATE,
        'predict',
        ...model(),
        ...r.pick([[p.table], traces()]),
        ...window(),
        '-o',
        out('csv'),
        ...noise(),
      ];
    case 3:
      return [
        SPYMATE,
        'eval',
        ...model(),
        ...r.pick([[p.table], [p.trace, '--labels', r.pick(p.labels)], traces()]),
        ...maybe(['--predictions', out('csv')]),
        ...maybe(['--report', out('html')]),
        ...noise(),
      ];
    default:
      return [
        SPYMATE_TUI,
        '-f',
        r.pick([p.trace, ...p.badTraces, ...p.junk]),
        '--speed',
        'max',
        '--headless',
        ...maybe(model()),
        ...window(),
        '--db',
        path.join(p.dir, `run${k}.db`),
        ...maybe(['--out', r.pick([path.join(p.dir, `run${k}.ndjson`), p.trace, path.join(p.dir, `run${k}.db`)])]),
        ...noise(),
      ];
  }
}

function snapshot(dir: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const f of fs.readdirSync(dir)) {
    const st = fs.statSync(path.join(dir, f));
    if (st.isFile()) m.set(f, `${st.mode} ${fs.readFileSync(path.join(dir, f)).toString('base64')}`);
  }
  return m;
}

function run(
  argv: string[],
  cwd: string,
): Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const c = spawn(process.execPath, ['--require', RSS_PROBE, ...argv], {
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: cliEnv(),
    });
    let stderr = '';
    c.stderr.on('data', (d: Buffer) => (stderr += d));
    const timer = setTimeout(() => c.kill('SIGKILL'), CASE_MS);
    c.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr, ms: Date.now() - t0 });
    });
  });
}

test(
  '60 random command lines over good, damaged and hostile inputs: exit 0/1/2, one clean line, bounded, nothing clobbered',
  { timeout: 240_000 },
  async () => {
    const r = rng(SEED + 2);
    const pool = makePool(r);
    const inputs = new Set(
      [pool.trace, ...pool.badTraces, ...pool.models.slice(1), ...pool.labels, pool.table].map((f) => path.basename(f)),
    );
    const codes = new Map<number, number>();
    for (let k = 0; k < 60; k++) {
      const argv = commandLine(r, pool, k);
      const what = `case ${k}: ${argv.slice(1).join(' ')}`;
      const before = snapshot(pool.dir);
      const res = await run(argv, pool.dir);
      assert.equal(res.signal, null, `${what}: killed (over ${CASE_MS} ms)`);
      assert.ok(res.code !== null && [0, 1, 2].includes(res.code), `${what}: exit ${res.code}\n${res.stderr}`);
      codes.set(res.code!, (codes.get(res.code!) ?? 0) + 1);
      const rss = /BENCH_MAXRSS_KB=(\d+)/.exec(res.stderr);
      assert.ok(rss && Number(rss[1]) / 1024 < MAX_RSS_MB, `${what}: peak RSS ${rss?.[1]} KiB`);
      const stderr = res.stderr.replace(/BENCH_MAXRSS_KB=.*\n/, '');
      assert.doesNotMatch(stderr, /\n\s+at |internal error/, `${what}\n${stderr}`);
      assert.doesNotMatch(
        stderr,
        CONTROL,
        `${what}: a raw control character reached the terminal\n${JSON.stringify(stderr)}`,
      );
      if (res.code !== 0) {
        const errors = stderr
          .split('\n')
          .filter((l) => l && !/warning|ignoring|^spymate(-tui)?: \d+ (packets|records)/.test(l));
        assert.ok(errors.length <= 1, `${what}: more than one error line\n${stderr}`);
      }
      const after = snapshot(pool.dir);
      for (const [f, v] of before) {
        // a successful run may replace the outputs it was asked for; inputs never change
        if (res.code === 0 && !inputs.has(f)) continue;
        assert.equal(after.get(f), v, `${what}: ${f} changed (exit ${res.code})`);
      }
      assert.deepEqual(
        [...after.keys()].filter((f) => f.endsWith('.tmp')),
        [],
        `${what}: a temporary output was left behind`,
      );
    }
    // the command lines must reach success, runtime failure and usage errors alike
    assert.ok(
      (codes.get(0) ?? 0) > 5 && (codes.get(1) ?? 0) > 5 && (codes.get(2) ?? 0) > 5,
      JSON.stringify([...codes]),
    );
  },
);
