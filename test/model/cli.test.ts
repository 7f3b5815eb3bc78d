import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { nullDeviceIn } from '../../src/testkit/null-device';
import { spymate, tmpDir } from '../../src/testkit/spymate-cli';
import { synthCall, synthCsv } from '../../src/lab/experiments/synth';

/** A tiny call: feature a jumps with presence every 40 windows; b is constant. */
function tinyCsv(seed: number, flip = false): string {
  const lines = ['a,b,label'];
  for (let i = 0; i < 400; i++) {
    const l = (Math.floor(i / 40) + (flip ? 1 : 0)) % 2;
    lines.push(`${(l ? 5000 : 1000) + ((i * 7919 + seed * 31) % 97)},3,${l ? 'person' : 'background'}`);
  }
  return lines.join('\n') + '\n';
}

test('train + eval --json: exact keys in order, values matching the predictions file', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
  fs.writeFileSync(path.join(dir, 'b.csv'), tinyCsv(2, true));
  fs.writeFileSync(path.join(dir, 'c.csv'), tinyCsv(3));
  const tr = spymate(['train', 'a.csv', 'b.csv', '--algo', 'logreg', '-o', 'm.json'], dir);
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(tr.stderr, /cross-validation \(5 contiguous folds\)/);
  assert.equal(fs.statSync(path.join(dir, 'm.json')).mode & 0o777, 0o600);
  const ev = spymate(['eval', '--model', 'm.json', 'c.csv', '--json', '--predictions', 'p.csv'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  const lines = ev.stdout.trim().split('\n');
  assert.equal(lines.length, 1, 'one JSON object on stdout');
  const j = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(j).slice(0, 7), [
    'windows',
    'accuracy',
    'precision',
    'recall',
    'f1',
    'confusion',
    'raw_accuracy',
  ]);
  assert.deepEqual(Object.keys(j.confusion), ['tp', 'fp', 'tn', 'fn']);
  assert.ok(lines[0].startsWith('{"windows":400,"accuracy":'));
  // recompute from the predictions file
  const rows = fs.readFileSync(path.join(dir, 'p.csv'), 'utf8').trim().split('\n');
  assert.equal(rows[0], 'time,flow,truth,raw,final,probability,certainty');
  const c = { tp: 0, fp: 0, tn: 0, fn: 0 };
  let rawOk = 0;
  for (const r of rows.slice(1)) {
    const [, , truth, raw, fin] = r.split(',');
    if (raw === truth) rawOk++;
    if (fin === '1') c[truth === '1' ? 'tp' : 'fp']++;
    else c[truth === '1' ? 'fn' : 'tn']++;
  }
  assert.deepEqual(j.confusion, c);
  assert.equal(j.windows, 400);
  assert.equal(j.accuracy, Math.round(((c.tp + c.tn) / 400) * 1e6) / 1e6);
  assert.equal(j.precision, Math.round((c.tp / (c.tp + c.fp)) * 1e6) / 1e6);
  assert.equal(j.raw_accuracy, Math.round((rawOk / 400) * 1e6) / 1e6);
  assert.ok(j.accuracy > 0.9, `accuracy ${j.accuracy}`);
  assert.equal(fs.statSync(path.join(dir, 'p.csv')).mode & 0o777, 0o600);
  assert.doesNotMatch(ev.stderr, /training inputs/, 'c.csv is held out: no warning');
});

test("eval warns in one line when the data includes the model's own training inputs (by their digests)", () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
  fs.writeFileSync(path.join(dir, 'b.csv'), tinyCsv(2, true));
  fs.writeFileSync(path.join(dir, 'c.csv'), tinyCsv(3));
  // the same bytes under another name are the same input
  fs.copyFileSync(path.join(dir, 'a.csv'), path.join(dir, 'renamed.csv'));
  assert.equal(spymate(['train', 'a.csv', 'b.csv', '--algo', 'logreg', '--cv', '0', '-o', 'm.json'], dir).code, 0);
  const one = spymate(['eval', '--model', 'm.json', 'renamed.csv', '--json'], dir);
  assert.equal(one.code, 0, one.stderr);
  assert.deepEqual(one.stderr.trim().split('\n'), [
    "spymate: warning: renamed.csv is one of this model's training inputs: its score is not a held-out figure",
  ]);
  const some = spymate(['eval', '--model', 'm.json', 'c.csv', 'a.csv', 'b.csv', '--json'], dir);
  assert.equal(some.code, 0, some.stderr);
  assert.match(
    some.stderr,
    /^spymate: warning: 2 of 3 inputs \(a\.csv and b\.csv\) are this model's training inputs: the scores on them are not held-out figures\n$/,
  );
  assert.doesNotMatch(spymate(['eval', '--model', 'm.json', 'c.csv'], dir).stderr, /training inputs/);
});

test(
  'train -o, predict -o, eval --predictions/--report: an existing file keeps its mode, a device keeps its mode',
  { skip: process.getuid?.() === 0 ? false : 'needs root (mknod)' },
  () => {
    const dir = tmpDir();
    fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
    fs.writeFileSync(path.join(dir, 'b.csv'), tinyCsv(2, true));
    const dev = nullDeviceIn(dir);
    fs.writeFileSync(path.join(dir, 'm.json'), 'old', { mode: 0o644 });
    fs.chmodSync(path.join(dir, 'm.json'), 0o644);
    for (const args of [
      ['train', 'a.csv', 'b.csv', '--algo', 'logreg', '--cv', '0', '-o', 'm.json'],
      ['train', 'a.csv', 'b.csv', '--algo', 'logreg', '--cv', '0', '-o', dev],
      ['predict', '--model', 'm.json', 'b.csv', '-o', dev],
      ['eval', '--model', 'm.json', 'b.csv', '--predictions', dev, '--report', dev],
    ]) {
      const r = spymate(args, dir);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      assert.equal(fs.statSync(dev).mode & 0o777, 0o666, `${args[0]} left the device's mode alone`);
    }
    assert.equal(fs.statSync(path.join(dir, 'm.json')).mode & 0o777, 0o644, 'never chmod a path the user named');
  },
);

test('a failed train, predict or eval leaves existing outputs byte for byte; an output naming an input is refused', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
  fs.writeFileSync(path.join(dir, 'b.csv'), tinyCsv(2, true));
  fs.writeFileSync(path.join(dir, 'ragged.csv'), 'a,b,label\n1,2,0\n1,0\n');
  assert.equal(spymate(['train', 'a.csv', 'b.csv', '--algo', 'logreg', '--cv', '0', '-o', 'm.json'], dir).code, 0);
  const keep = ['m.json', 'p.csv', 'r.html', 'q.csv'];
  for (const f of keep.slice(1)) fs.writeFileSync(path.join(dir, f), `earlier ${f}\n`);
  const before = keep.map((f) => fs.readFileSync(path.join(dir, f)));
  const cases: [string[], number, RegExp][] = [
    [['train', 'ragged.csv', '-o', 'm.json'], 1, /ragged\.csv:3/],
    [['predict', '--model', 'm.json', 'ragged.csv', '-o', 'q.csv'], 1, /ragged\.csv:3/],
    [['eval', '--model', 'm.json', 'ragged.csv', '--predictions', 'p.csv', '--report', 'r.html'], 1, /ragged\.csv:3/],
    // the second output is bad: the first is not written either
    [
      ['eval', '--model', 'm.json', 'b.csv', '--predictions', 'p.csv', '--report', 'no/such/dir/r.html'],
      1,
      /no such file or directory/,
    ],
    [['train', 'a.csv', 'b.csv', '-o', 'a.csv'], 2, /-o a\.csv is also input a\.csv; writing it would destroy it/],
    [['predict', '--model', 'm.json', 'b.csv', '-o', 'm.json'], 2, /-o m\.json is also --model m\.json/],
    [
      ['eval', '--model', 'm.json', 'b.csv', '--predictions', 'p.csv', '--report', 'p.csv'],
      2,
      /--report p\.csv is also --predictions p\.csv/,
    ],
  ];
  for (const [args, code, re] of cases) {
    const r = spymate(args, dir);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.deepEqual(
      keep.map((f) => fs.readFileSync(path.join(dir, f))),
      before,
      `${args.join(' ')} left the existing files as they were`,
    );
  }
  assert.ok(fs.readFileSync(path.join(dir, 'a.csv'), 'utf8').startsWith('a,b,label'), 'the input is intact');
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.endsWith('.tmp')),
    [],
    'no temporary file left',
  );
});

test('the Spy Your Mate form: index + Time Interval ignored with notices, --label-column Person', () => {
  const dir = tmpDir();
  for (const s of [1, 2, 3]) fs.writeFileSync(path.join(dir, `c${s}.csv`), synthCsv(synthCall(s)));
  const tr = spymate(['train', 'c1.csv', 'c2.csv', '--label-column', 'Person', '--cv', '0', '-o', 'm.json'], dir);
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(tr.stderr, /c1\.csv: ignoring column 1 with an empty header/);
  assert.match(tr.stderr, /c1\.csv: ignoring non-numeric column 'Time Interval'/);
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'm.json'), 'utf8'));
  assert.equal(m.format, 'spymate-model');
  assert.equal(m.version, 1);
  assert.equal(m.windowMs, null);
  assert.equal(m.features.length, 12);
  assert.deepEqual(m.classes, ['background', 'person']);
  assert.match(m.training.inputs[0].sha256, /^[0-9a-f]{64}$/);
  const ev = spymate(['eval', '--model', 'm.json', 'c3.csv', '--json'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  assert.ok(JSON.parse(ev.stdout).windows > 500);
});

test('bad input: one line, exit 1 (runtime) or 2 (usage), no stack trace', () => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
  fs.writeFileSync(path.join(dir, 'ragged.csv'), 'a,b,label\n1,2,0\n1,0\n');
  fs.writeFileSync(path.join(dir, 'one.csv'), 'a,label\n1,1\n5,1\n3,1\n');
  fs.writeFileSync(
    path.join(dir, 'old.json'),
    JSON.stringify({ format: 'spymate-model', version: 0, createdBy: 'spymate 0.0.1' }),
  );
  const cases: [string[], number, RegExp][] = [
    [['train', 'a.csv', '--label-column', 'Person', '-o', 'm.json'], 1, /a\.csv: no column 'Person'/],
    [['train', 'ragged.csv', '-o', 'm.json'], 1, /ragged\.csv:3: 2 fields but the header has 3/],
    [['train', 'one.csv', '-o', 'm.json'], 1, /only person windows/],
    [['train', 'a.csv'], 2, /--output/],
    [['train', 'a.csv', '--algo', 'svm', '-o', 'm.json'], 2, /--algo must be rf, cart or logreg/],
    [
      ['eval', '--model', 'old.json', 'a.csv'],
      1,
      /made by spymate 0\.0\.1 in model format 0.*retrain with `spymate train`/,
    ],
    [['eval', '--model', 'missing.json', 'a.csv'], 1, /missing\.json: no such model file/],
    [['train', 'x.pcap', '-o', 'm.json'], 2, /traces need ground truth: add --labels/],
  ];
  for (const [args, code, re] of cases) {
    const r = spymate(args, dir);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    const lines = r.stderr
      .trim()
      .split('\n')
      .filter((l) => !/ignoring/.test(l));
    assert.equal(lines.length, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(lines[0], re);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  }
});

function chromium(): string | null {
  for (const c of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim()) return r.stdout.trim();
  }
  return null;
}

test('eval --report: one self-contained page whose charts render in headless chromium', (t) => {
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'a.csv'), tinyCsv(1));
  fs.writeFileSync(path.join(dir, 'b.csv'), tinyCsv(2, true));
  const tr = spymate(['train', 'a.csv', '--algo', 'logreg', '--cv', '3', '--learning-curve', '-o', 'm.json'], dir);
  assert.equal(tr.code, 0, tr.stderr);
  assert.match(tr.stderr, /T training accuracy, V validation accuracy/);
  fs.writeFileSync(path.join(dir, 'c.csv'), tinyCsv(3));
  const ev = spymate(['eval', '--model', 'm.json', 'b.csv', 'c.csv', '--report', 'r.html'], dir);
  assert.equal(ev.code, 0, ev.stderr);
  assert.match(ev.stdout, /truth person/);
  const html = fs.readFileSync(path.join(dir, 'r.html'), 'utf8');
  // accuracy per flow: one row each, with its windows and accuracy
  assert.match(html, /<table id="flows">/);
  assert.match(html, /<tr><th>b\.csv<\/th><td>400<\/td><td>\d+\.\d %<\/td>/);
  assert.match(html, /<tr><th>c\.csv<\/th><td>400<\/td><td>\d+\.\d %<\/td>/);
  assert.doesNotMatch(
    html,
    /<script[^>]+src=|<link[^>]+href=|<img[^>]+src=|@import|url\(http/,
    'no external resources',
  );
  assert.match(html, /id="confusion"/);
  const browser = chromium();
  if (!browser) {
    t.skip('chromium not installed: install Debian chromium to run the browser check');
    return;
  }
  const r = spawnSync(
    browser,
    [
      '--headless=new',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${path.join(dir, 'profile')}`,
      '--virtual-time-budget=5000',
      '--window-size=1600,1000',
      '--dump-dom',
      `file://${path.join(dir, 'r.html')}`,
    ],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  const dom = r.stdout;
  // two timelines (b.csv, c.csv) + the learning curve, each a drawn uPlot canvas marked by the page
  assert.match(dom, /data-charts-done="3"/);
  assert.equal((dom.match(/data-rendered="1" data-chart="[^"]+"/g) ?? []).length, 3);
  assert.ok((dom.match(/<canvas/g) ?? []).length >= 3);
  assert.match(dom, /data-chart="learning"/);
  assert.match(dom, /data-chart="timeline-0"/);
  // legends name every series (not just empty value cells), the y axes have titles
  for (const label of ['truth (person=1)', 'final prediction', 'probability', 'training', 'validation'])
    assert.ok(dom.includes(`class="u-label">${label}</div>`), `legend ${label}`);
  assert.doesNotMatch(dom, /class="u-value"/, 'no empty live values in the legends');
  assert.equal((dom.match(/data-y-title="person \(1\) \/ background \(0\)"/g) ?? []).length, 2);
  assert.match(dom, /data-y-title="accuracy"/);
  // the charts use the page's width (1600 px window, less the margins), not a fixed 1100
  const widths = [...dom.matchAll(/<canvas width="(\d+)"/g)].map((m) => Number(m[1]));
  assert.ok(widths.length >= 3 && widths.every((w) => w > 1400), `canvas widths ${widths.join(', ')}`);
});
