import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArffTable, parseCsvTable } from '../../src/model/table';
import { UserError } from '../../src/util/errors';

const csv = ',Time Interval,a,b,Person\n0,0.0-0.5,1,10,0\n1,0.5-1.0,4,20,1\n2,1.0-1.5,3,25,person\n';

test('CSV: empty-header index and text column are ignored with one notice each', () => {
  const notices: string[] = [];
  const t = parseCsvTable('x.csv', csv, { labelColumn: 'Person', notice: (l) => notices.push(l) });
  assert.deepEqual(t.features, ['a', 'b']);
  assert.deepEqual([...t.labels], [0, 1, 1]);
  assert.deepEqual([...t.rows[2]], [3, 25]);
  assert.equal(notices.length, 2);
  assert.match(notices[0], /x\.csv: ignoring column 1 with an empty header/);
  assert.match(notices[1], /ignoring non-numeric column 'Time Interval'/);
});

test('CSV: the class column defaults to the last one; --label-column picks another', () => {
  const t = parseCsvTable('y.csv', 'f,label,g\n1,background,5\n2,true,6\n', {
    labelColumn: 'label',
    notice: () => undefined,
  });
  assert.deepEqual(t.features, ['f', 'g']);
  assert.deepEqual([...t.labels], [0, 1]);
  const last = parseCsvTable('z.csv', 'f,cls\n1,1\n2,0\n', { notice: () => undefined });
  assert.deepEqual([...last.labels], [1, 0]);
});

test('CSV: a missing label column is an error naming the columns', () => {
  assert.throws(
    () => parseCsvTable('x.csv', csv, { labelColumn: 'Presence', notice: () => undefined }),
    (e: Error) => e instanceof UserError && /x\.csv: no column 'Presence'.*--label-column/.test(e.message),
  );
});

test('CSV: a ragged row is an error with FILE:LINE', () => {
  const bad = 'a,b,Person\n1,2,0\n1,2\n';
  assert.throws(
    () => parseCsvTable('r.csv', bad, { notice: () => undefined }),
    (e: Error) => e instanceof UserError && /^r\.csv:3: 2 fields but the header has 3/.test(e.message),
  );
});

test('CSV/ARFF: windows no label covered (empty, as extract --labels writes them; ? in ARFF) are unlabelled, not an error', () => {
  const t = parseCsvTable('u.csv', 'a,label\n1,person\n5,\n3,background\n', { notice: () => undefined });
  assert.deepEqual([...t.labels], [1, -1, 0]);
  assert.equal(t.rows.length, 3, 'kept: they feed the temporal context');
  const a = parseArffTable(
    'u.arff',
    '@relation w\n@attribute a numeric\n@attribute class {background,person}\n@data\n1,person\n2,?\n',
    { notice: () => undefined },
  );
  assert.deepEqual([...a.labels], [1, -1]);
});

test('CSV for predict: no class column unless --label-column or a class-like last header says so', () => {
  const t = parseCsvTable('f.csv', 'a,b\n1,5\n4,7\n2,1\n', { classOptional: true, notice: () => undefined });
  assert.deepEqual(t.features, ['a', 'b'], 'the last column is a feature, not the class');
  assert.deepEqual([...t.labels], [-1, -1, -1]);
  const named = parseCsvTable('g.csv', 'a,label\n1,person\n4,\n2,background\n', {
    classOptional: true,
    notice: () => undefined,
  });
  assert.deepEqual(named.features, ['a']);
  assert.deepEqual([...named.labels], [1, -1, 0]);
  const picked = parseCsvTable('h.csv', 'a,b\n1,1\n4,0\n2,1\n', {
    classOptional: true,
    labelColumn: 'b',
    notice: () => undefined,
  });
  assert.deepEqual([...picked.labels], [1, 0, 1]);
});

test('CSV: an unknown class value is an error with FILE:LINE', () => {
  assert.throws(
    () => parseCsvTable('c.csv', 'a,Person\n1,0\n2,maybe\n', { notice: () => undefined }),
    (e: Error) => e instanceof UserError && /^c\.csv:3: class 'maybe'/.test(e.message),
  );
});

const arff = `% comment
@relation windows
@attribute in_bytes numeric
@attribute 'out bytes' real
@attribute app {zoom,meet}
@attribute class {background,person}
@data
10,20,zoom,background
11,'21',meet,person
`;

test('ARFF: numeric attributes and a nominal class are read; a nominal feature is ignored with a notice', () => {
  const notices: string[] = [];
  const t = parseArffTable('w.arff', arff, { notice: (l) => notices.push(l) });
  assert.deepEqual(t.features, ['in_bytes', 'out bytes']);
  assert.deepEqual([...t.labels], [0, 1]);
  assert.deepEqual([...t.rows[1]], [11, 21]);
  assert.equal(notices.length, 1);
  assert.match(notices[0], /w\.arff: ignoring non-numeric column 'app'/);
});

test('ARFF: a class attribute whose values are not presence labels is a clear error', () => {
  const skype = arff
    .replace('{background,person}', '{skype,other}')
    .replace(/background\n/, 'skype\n')
    .replace(/person\n/, 'other\n');
  assert.throws(
    () => parseArffTable('s.arff', skype, { notice: () => undefined }),
    (e: Error) => e instanceof UserError && /class attribute 'class' has values \{skype,other\}/.test(e.message),
  );
});

test('ARFF: sparse rows and unknown types are refused with FILE:LINE', () => {
  assert.throws(
    () =>
      parseArffTable('p.arff', '@relation r\n@attribute a numeric\n@attribute c {0,1}\n@data\n{0 1, 1 0}\n', {
        notice: () => undefined,
      }),
    /p\.arff:5: sparse ARFF/,
  );
  assert.throws(
    () => parseArffTable('q.arff', '@relation r\n@attribute a relational\n@data\n', { notice: () => undefined }),
    /q\.arff:2: attribute 'a' has type 'relational'/,
  );
});

test('CSV: a numeric column that counts windows or time is ignored with a notice', () => {
  const notices: string[] = [];
  const t = parseCsvTable('t.csv', 'time,a,Person\n0.5,7,0\n1.0,9,1\n1.5,4,0\n2.0,5,1\n', {
    notice: (l) => notices.push(l),
  });
  assert.deepEqual(t.features, ['a']);
  assert.deepEqual(notices, [
    `t.csv: ignoring column 'time' that counts windows or time (a constant step says nothing about presence)`,
  ]);
});
