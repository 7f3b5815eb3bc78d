import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { projectRoot } from '../../src/rules/paths';
import { spymate, tmpDir } from '../../src/testkit/spymate-cli';

/** A lab recording with labels, if the fixtures are there (test/fixtures/calls). */
function recording(): { trace: string; labels: string; local: string } | null {
  const dir = path.join(projectRoot(), 'test', 'fixtures', 'calls');
  if (!fs.existsSync(dir)) return null;
  const name = fs
    .readdirSync(dir)
    .filter((f) => /\.pcapng\.gz$/.test(f))
    .map((f) => f.replace(/\.pcapng\.gz$/, ''))
    .sort()
    .find((n) => fs.existsSync(path.join(dir, `${n}.labels.csv`)) && fs.existsSync(path.join(dir, `${n}.json`)));
  if (!name) return null;
  const local = (JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as { localIp: string }).localIp;
  return { trace: path.join(dir, `${name}.pcapng.gz`), labels: path.join(dir, `${name}.labels.csv`), local };
}

test("traces + labels: train, eval with the model's window, predict per window; labels covering no window are an error", (t) => {
  const rec = recording();
  if (!rec) {
    t.skip('no lab recording in test/fixtures/calls yet');
    return;
  }
  const dir = tmpDir();
  const tr = spymate(
    ['train', rec.trace, '--labels', rec.labels, '--local', rec.local, '--window', '400', '--cv', '0', '-o', 'm.json'],
    dir,
  );
  assert.equal(tr.code, 0, tr.stderr);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'm.json'), 'utf8'));
  assert.equal(m.windowMs, 400);
  assert.ok(m.features.includes('out_bytes') && m.features.length >= 12, "trained on the extractor's FEATURE_NAMES");
  // eval takes the model's window length by default; another one is refused
  const ev = spymate(
    ['eval', '--model', 'm.json', rec.trace, '--labels', rec.labels, '--local', rec.local, '--json'],
    dir,
  );
  assert.equal(ev.code, 0, ev.stderr);
  assert.ok(JSON.parse(ev.stdout).windows > 100);
  const bad = spymate(['eval', '--model', 'm.json', rec.trace, '--labels', rec.labels, '--window', '500'], dir);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /trained on 400 ms windows, this run uses 500 ms; use --window 400/);
  const pr = spymate(['predict', '--model', 'm.json', rec.trace, '--local', rec.local, '-o', 'p.csv'], dir);
  assert.equal(pr.code, 0, pr.stderr);
  const rows = fs.readFileSync(path.join(dir, 'p.csv'), 'utf8').trim().split('\n');
  assert.equal(
    rows[0],
    'time,flow,raw,final,probability,certainty,remote_raw,remote_final,remote_probability,remote_certainty',
  );
  assert.ok(rows.length > 100);
  const camera = '[01],[01],[01]\\.\\d{4},\\d+\\.\\d';
  assert.match(rows[1], new RegExp(`^\\d+(\\.\\d+)?,[0-9a-f]+,${camera},(${camera}|,,,)$`));
  assert.equal(fs.statSync(path.join(dir, 'p.csv')).mode & 0o777, 0o600);
  // labels an hour after the call cover no window
  fs.writeFileSync(path.join(dir, 'late.csv'), 'start,end,label\n3600,3700,person\n');
  const late = spymate(['train', rec.trace, '--labels', 'late.csv', '-o', 'x.json'], dir);
  assert.equal(late.code, 1);
  assert.match(late.stderr.trim(), /^spymate: late\.csv: its intervals cover no window of the calls in .*pcapng\.gz/);
});

test("--local-each: each trace its own local address, so a call's other direction is a second labelled stream", (t) => {
  const rec = recording();
  if (!rec) {
    t.skip('no lab recording in test/fixtures/calls yet');
    return;
  }
  const json = JSON.parse(fs.readFileSync(rec.trace.replace(/\.pcapng\.gz$/, '.json'), 'utf8')) as {
    peers: { B: { ip: string } };
  };
  const labelsB = rec.labels.replace(/\.labels\.csv$/, '.B.labels.csv');
  const dir = tmpDir();
  const tr = spymate(
    ['train', rec.trace, '--labels', rec.labels, '--local', rec.local, '--cv', '0', '-o', 'm.json'],
    dir,
  );
  assert.equal(tr.code, 0, tr.stderr);
  const evalJson = (args: string[]): { windows: number; confusion: unknown } => {
    const r = spymate(['eval', '--model', 'm.json', ...args, '--json'], dir);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  };
  const a = evalJson([rec.trace, '--labels', rec.labels, '--local', rec.local]);
  const b = evalJson([rec.trace, '--labels', labelsB, '--local', json.peers.B.ip]);
  const both = evalJson([
    rec.trace,
    rec.trace,
    '--labels',
    rec.labels,
    '--labels',
    labelsB,
    '--local-each',
    rec.local,
    '--local-each',
    json.peers.B.ip,
  ]);
  assert.equal(both.windows, a.windows + b.windows);
  const sum = (c: unknown): number[] => JSON.stringify(c).match(/\d+/g)!.map(Number);
  assert.deepEqual(
    sum(both.confusion),
    sum(a.confusion).map((v, i) => v + sum(b.confusion)[i]),
  );
  const bad = spymate(
    [
      'eval',
      '--model',
      'm.json',
      rec.trace,
      '--labels',
      rec.labels,
      '--local-each',
      rec.local,
      '--local-each',
      json.peers.B.ip,
    ],
    dir,
  );
  assert.equal(bad.code, 2);
  assert.match(
    bad.stderr.trim(),
    /^spymate: 2 --local-each range\(s\) for 1 trace\(s\): give one per trace, in the same order/,
  );
});
