import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { FEATURE_NAMES } from '../../src/features/names';
import { FdOutput } from '../../src/features/output';
import type { WindowRecord } from '../../src/features/types';
import { createWriter, formatFromPath, RECORD_COLUMNS, type OutputFormat } from '../../src/features/writers';

function record(i: number, label?: 0 | 1): WindowRecord {
  const features = new Float64Array(FEATURE_NAMES.length).map((_, j) => j + i / 4);
  const r: WindowRecord = {
    flowID: '0123456789abcdef',
    app: 'webrtc',
    srcIP: '2001:db8::1',
    srcPort: 5000,
    desIP: '10.0.0.2',
    desPort: 6000,
    protocol: 'UDP',
    start: 1700000000 + i / 2,
    end: 1700000000.5 + i / 2,
    packets: 10 + i,
    bytes: 1000 + i,
    callCertainty: 1,
    features,
    cameraOff: false,
  };
  if (label !== undefined) r.label = label;
  return r;
}

function write(format: OutputFormat, labelled: boolean, recs: WindowRecord[]): { text: string; mode: number } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-writers-'));
  const file = path.join(dir, `out.${format}`);
  fs.writeFileSync(file, 'old content', { mode: 0o644 });
  const w = createWriter(format, FdOutput.open(file), labelled);
  for (const r of recs) w.write(r);
  w.close();
  const out = { text: fs.readFileSync(file, 'utf8'), mode: fs.statSync(file).mode & 0o777 };
  fs.rmSync(dir, { recursive: true, force: true });
  return out;
}

test('CSV: header row with the record columns, the features and label; one row per window', () => {
  const { text, mode } = write('csv', true, [record(0, 1), record(1)]);
  assert.equal(mode, 0o600, 'outputs are private, even over an existing file');
  const lines = text.trimEnd().split('\n');
  assert.deepEqual(lines[0].split(','), [...RECORD_COLUMNS, ...FEATURE_NAMES, 'label']);
  assert.equal(lines.length, 3);
  const row = lines[1].split(',');
  assert.equal(row.length, lines[0].split(',').length);
  assert.equal(row[2], '2001:db8::1');
  assert.equal(row[7], '1700000000');
  assert.equal(row[RECORD_COLUMNS.length + 1], '1');
  assert.equal(row[row.length - 1], '1');
  assert.equal(lines[2].split(',').pop(), '', 'a window outside every interval has an empty label');
});

test('NDJSON: each line parses, with the same keys and values', () => {
  const { text } = write('ndjson', true, [record(2, 0), record(3)]);
  const objs = text
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.deepEqual(Object.keys(objs[0]), [...RECORD_COLUMNS, ...FEATURE_NAMES, 'label']);
  assert.equal(objs[0].start, 1700000001);
  assert.equal(objs[0][FEATURE_NAMES[3]], 3.5);
  assert.equal(objs[0].label, 0);
  assert.equal(objs[1].label, null);
  const unlabelled = write('ndjson', false, [record(0)]).text;
  assert.ok(!('label' in JSON.parse(unlabelled)));
});

test('ARFF: a header WEKA reads (numeric attributes, string identifiers, class {0,1}) and matching data rows', () => {
  const { text } = write('arff', true, [record(0, 1), record(1)]);
  const [header, data] = text.split(/^@data$/m);
  const attrs = [...header.matchAll(/^@attribute (\S+) (.+)$/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(
    attrs.map((a) => a[0]),
    [...RECORD_COLUMNS, ...FEATURE_NAMES, 'label'],
  );
  assert.deepEqual(
    attrs.find((a) => a[0] === 'label'),
    ['label', '{0,1}'],
  );
  assert.ok(attrs.filter((a) => FEATURE_NAMES.includes(a[0])).every((a) => a[1] === 'numeric'));
  assert.match(header, /^@relation \S+$/m);
  const rows = data.trim().split('\n');
  assert.equal(rows.length, 2);
  // a small ARFF row parser: quoted strings, numbers, ? for missing
  const cells = (row: string) => [...row.matchAll(/'((?:[^'\\]|\\.)*)'|([^,]+)/g)].map((m) => m[1] ?? m[2]);
  const r0 = cells(rows[0]);
  assert.equal(r0.length, attrs.length);
  assert.equal(r0[2], '2001:db8::1');
  attrs.forEach(([, type], i) => {
    if (type === 'numeric') assert.ok(Number.isFinite(Number(r0[i])), `${attrs[i][0]} = ${r0[i]}`);
  });
  assert.equal(cells(rows[1]).pop(), '?', 'missing label');
});

test('the output format follows the file extension', () => {
  assert.equal(formatFromPath('w.csv'), 'csv');
  assert.equal(formatFromPath('w.NDJSON'), 'ndjson');
  assert.equal(formatFromPath('w.jsonl'), 'ndjson');
  assert.equal(formatFromPath('dir/w.arff'), 'arff');
  assert.equal(formatFromPath('w.txt'), null);
  assert.equal(formatFromPath('-'), null);
});

const WEKA = '/usr/share/java/weka.jar';

test(
  'WEKA itself reads the ARFF',
  { skip: !fs.existsSync(WEKA) && 'WEKA not installed (apt-get install weka)' },
  () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-weka-'));
    try {
      const file = path.join(dir, 'w.arff');
      const w = createWriter('arff', FdOutput.open(file), true);
      for (let i = 0; i < 5; i++) w.write(record(i, i % 3 === 2 ? undefined : ((i % 2) as 0 | 1)));
      w.close();
      const r = spawnSync('java', ['-cp', WEKA, 'weka.core.Instances', file], { encoding: 'utf8', timeout: 120_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /Num Instances:\s+5\b/);
      assert.match(r.stdout, new RegExp(`Num Attributes:\\s+${RECORD_COLUMNS.length + FEATURE_NAMES.length + 1}\\b`));
      assert.match(r.stdout, /\blabel\s+Nom\b.*\s1 \/ 20%/, 'the label is nominal, one of five missing');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);
