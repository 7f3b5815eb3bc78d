/** docs/design.md's PostgreSQL store and IPFIX sections held to db/postgres/schema.sql and the encoder. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OWN_ELEMENTS } from '../../src/export/ipfix';
import { projectRoot } from '../../src/rules/paths';
import { PG_SCHEMA_VERSION } from '../../src/store/pg/migrate';
import { designSection } from '../../src/testkit/design-doc';

const codeSpans = (text: string): string[] => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1]);

/** The columns of each CREATE TABLE in a schema file, by table. */
function schemaColumns(sql: string): Map<string, string[]> {
  const tables = new Map<string, string[]>();
  for (const m of sql.matchAll(/CREATE TABLE (\w+) \(([\s\S]*?)\n\)[^;\n]*;/g)) {
    const cols = [...m[2].matchAll(/^\s+"?(\w+)"?\s+[a-z]/gm)].map((c) => c[1]).filter((c) => c !== 'PRIMARY');
    tables.set(m[1], cols);
  }
  return tables;
}

test('PostgreSQL store: the schema version and every column of flows, windows and sensors', () => {
  const text = designSection('### PostgreSQL store (`--store`)');
  assert.match(text, new RegExp(`version ${PG_SCHEMA_VERSION} \\(table \`spymate_schema\`\\)`));
  const tables = schemaColumns(fs.readFileSync(path.join(projectRoot(), 'db', 'postgres', 'schema.sql'), 'utf8'));
  const bullet = (name: string): string[] => {
    const b = text.slice(text.indexOf(`- \`${name}\``)).split('\n- ')[0];
    return codeSpans(b.slice(b.indexOf(':')));
  };
  for (const table of ['flows', 'windows', 'sensors']) {
    const documented = bullet(table);
    assert.deepEqual(
      tables.get(table)!.filter((c) => !documented.includes(c)),
      [],
      `${table}: columns missing from docs/design.md`,
    );
  }
});

test('IPFIX: the table names every enterprise element the encoder sends, with its id', () => {
  const text = designSection('### IPFIX (`--ipfix`)');
  const rows = [...text.matchAll(/^\| (\d+) \| (\w+) \|/gm)].map((m) => [Number(m[1]), m[2]]);
  assert.deepEqual(
    rows,
    OWN_ELEMENTS.map((e) => [e.id, e.own!.name]),
  );
});
