import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadLabels } from '../../src/features/labels';
import { UserError } from '../../src/util/errors';

function withFile(text: string, fn: (file: string) => void): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-labels-'));
  const file = path.join(dir, 'call.labels.csv');
  fs.writeFileSync(file, text);
  try {
    fn(file);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test('epoch labels: a window takes a label only when wholly inside one interval', () => {
  withFile('start,end,label\n1700000000,1700000010,background\n1700000010,1700000020.25,person\n', (f) => {
    const ls = loadLabels(f);
    assert.equal(ls.labelFor(1700000000, 1700000000.5, 1699999999), 0);
    assert.equal(ls.labelFor(1700000009.5, 1700000010, 0), 0, 'touching the end is inside');
    assert.equal(ls.labelFor(1700000009.75, 1700000010.25, 0), undefined, 'straddles a change');
    assert.equal(ls.labelFor(1700000019.75, 1700000020.25, 0), 1);
    assert.equal(ls.labelFor(1700000020, 1700000020.5, 0), undefined, 'runs past the last interval');
    assert.equal(ls.labelFor(1699999999.5, 1700000000, 0), undefined, 'before the first');
  });
});

test('relative labels (below 1e9) count from the trace start; 1/0 and comments are accepted', () => {
  withFile('# from the first packet\n0,5,1\n5,9.5,0\n', (f) => {
    const ls = loadLabels(f);
    const t0 = 1700000000.3;
    assert.equal(ls.labelFor(1700000000.5, 1700000001, t0), 1);
    assert.equal(ls.labelFor(1700000000, 1700000000.5, t0), undefined, 'starts before the trace start + 0');
    assert.equal(ls.labelFor(1700000005.5, 1700000006, t0), 0);
  });
});

test('overlapping intervals that disagree leave the window out', () => {
  withFile('0,10,person\n5,15,background\n', (f) => {
    const ls = loadLabels(f);
    assert.equal(ls.labelFor(106, 106.5, 100), undefined);
    assert.equal(ls.labelFor(102, 102.5, 100), 1);
    assert.equal(ls.labelFor(111, 111.5, 100), 0);
  });
});

test('bad labels files fail with FILE:LINE and the reason', () => {
  const cases: Array<[string, RegExp]> = [
    ['0,5\n', /:1: expected 'start,end,label', got 2 fields/],
    ['0,5,person\n5,x,person\n', /:2: start and end must be seconds/],
    ['0,5,person\n7,6,person\n', /:2: end \(6\) must be after start \(7\)/],
    ['0,5,maybe\n', /:1: label must be person, background, 1 or 0, got 'maybe'/],
    ['0,1700000000,person\n', /:1: start and end must both be epoch seconds/],
    ['# only a comment\n', /no label intervals/],
  ];
  for (const [text, why] of cases) {
    withFile(text, (f) => {
      assert.throws(
        () => loadLabels(f),
        (e: unknown) => e instanceof UserError && e.message.startsWith(f) && why.test(e.message),
        text,
      );
    });
  }
  assert.throws(() => loadLabels('/nonexistent/x.csv'), /no such labels file/);
});
