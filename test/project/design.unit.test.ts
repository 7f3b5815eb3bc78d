/**
 * docs/design.md states the contracts users' scripts rely on; these tests hold it to the code, so
 * a change to a contract fails until the page says it too. (The command-line options are checked
 * against each program's --help in design-cli.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import Database from 'better-sqlite3';
import { FEATURE_NAMES, MEASURES } from '../../src/features/names';
import { RECORD_COLUMNS } from '../../src/features/writers';
import { projectRoot } from '../../src/rules/paths';
import { SCHEMA_VERSION } from '../../src/store/migrate';
import { COLUMNS, resolveColumns } from '../../src/tui/columns';
import { designSection } from '../../src/testkit/design-doc';

const ROOT = projectRoot();

/** The `code` spans of a piece of markdown, in order. */
const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

test('Columns: the table has every column, by number and name, in number order', () => {
  const rows = [...designSection('## Columns').matchAll(/^\| (\d+) \| (\w+) \|/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    rows,
    COLUMNS.map((c) => [c.num, c.name]),
  );
});

test('Columns: the default order is the one the UI uses', () => {
  const text = designSection('## Columns');
  const list = text.slice(text.indexOf('With no columns given'));
  const names = list
    .slice(list.indexOf(':') + 1, list.indexOf('.\n'))
    .split(',')
    .map((s) => s.trim());
  assert.deepEqual(
    names,
    resolveColumns([]).map((c) => c.name),
  );
});

test('Window records: the leading columns, in order, then the features', () => {
  const text = designSection('### Window records');
  const lead = text.slice(text.indexOf('`flowID`'), text.indexOf('then the'));
  assert.deepEqual(codeSpans(lead), [...RECORD_COLUMNS]);
  assert.match(text, new RegExp(`then the ${FEATURE_NAMES.length} window features`));
});

test('Window features: the measures, in order, and their count', () => {
  const text = designSection('### Window features');
  assert.match(text, new RegExp(`^${FEATURE_NAMES.length} features per window`, 'm'));
  assert.ok(text.includes(`(\`${FEATURE_NAMES[0]}\` … \`${FEATURE_NAMES[FEATURE_NAMES.length - 1]}\`)`));
  const measures = text.slice(text.indexOf('the 17 measures'), text.indexOf('— named'));
  assert.equal(MEASURES.length, 17);
  assert.deepEqual(codeSpans(measures), [...MEASURES]);
});

test('Database: the schema version and every column of flows and windows', () => {
  const text = designSection('### Database');
  assert.match(text, new RegExp(`version ${SCHEMA_VERSION} \\(\`PRAGMA user_version\`\\)`));
  const db = new Database(':memory:');
  db.exec(fs.readFileSync(path.join(ROOT, 'db', 'schema.sql'), 'utf8'));
  const columns = (table: string): string[] =>
    (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
  const bullet = (name: string): string => text.slice(text.indexOf(`- \`${name}\``)).split('\n- ')[0];
  assert.deepEqual(codeSpans(bullet('flows')).slice(1).sort(), columns('flows').sort());
  const windows = new Set(codeSpans(bullet('windows')));
  assert.ok(windows.has('(flow_id, start)'));
  assert.deepEqual(
    columns('windows').filter((c) => c !== 'flow_id' && !windows.has(c)),
    [],
  );
  db.close();
});
