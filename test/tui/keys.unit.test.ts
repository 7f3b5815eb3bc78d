import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/rules/paths';
import { helpLines, keysMarkdown, KEYS, TOOLS_MENU } from '../../src/tui/keys';
import { overlayView } from '../../src/tui/overlays';
import { load, state, type } from './helpers';
import { flowRow } from '../../src/testkit/fixture-db';

/** The key table is the one definition of the keys: the handler, the Tools menu, help and docs follow it. */

test('docs/tui.md lists the keys exactly as the key table has them', () => {
  const doc = fs.readFileSync(path.join(projectRoot(), 'docs', 'tui.md'), 'utf8');
  assert.ok(doc.includes(keysMarkdown()), 'regenerate the key list of docs/tui.md from keysMarkdown()');
});

test('F10 quits, as in htop and mc; t and F2 open the Tools menu', () => {
  const s = load(state(), [flowRow({ flow_id: 'a' })]);
  assert.equal(type(s, '<f10>').quit, true);
  assert.equal(type(s, '<f2>').overlay, 'menu');
  assert.equal(type(s, 't').overlay, 'menu');
  assert.deepEqual(
    KEYS.flatMap((g) => g.commands.flatMap((c) => c.keys)).filter((k) => k === 'f10'),
    ['f10'],
    'F10 means one thing',
  );
});

test('every Tools menu item does what its key does', () => {
  const s = load(state(), [flowRow({ flow_id: 'a' }), flowRow({ flow_id: 'b' })]);
  for (const item of TOOLS_MENU) {
    const byKey = item.command.run(s, 0);
    const i = TOOLS_MENU.indexOf(item);
    const byMenu = type(s, `t${'<down>'.repeat(i)}<enter>`);
    for (const field of ['overlay', 'frozen', 'paused', 'quit', 'marks', 'sort'] as const) {
      assert.deepEqual(byMenu[field], byKey[field], `${item.label}: ${field}`);
    }
  }
});

test('the help screen shows every key group and fits 80x24', () => {
  const s = type(load(state({ width: 80, height: 24 }), [flowRow({ flow_id: 'a' })]), '?');
  const v = overlayView(s);
  assert.ok(v);
  assert.ok(v.rect.height <= 24 && v.rect.width <= 80);
  assert.equal(v.lines.length, v.rect.height - 2, 'every line inside the box');
  for (const line of helpLines())
    assert.ok(
      v.lines.some((l) => l.includes(line.trimEnd())),
      line,
    );
});
