/**
 * docs/design.md lists every option of every command: each program's --help must offer exactly
 * the options its section names, so a new option fails here until the contract page has it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { projectRoot } from '../../src/rules/paths';
import { designSection } from '../../src/testkit/design-doc';

const BIN = path.join(projectRoot(), 'dist', 'src', 'cli');

/** Long options a program's --help offers (--help and --version are said once for all). */
function helpOptions(program: string, args: string[]): string[] {
  const r = spawnSync(process.execPath, [path.join(BIN, program), ...args, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const options = [...r.stdout.matchAll(/^ {2}(?:-\w, )?(--[\w-]+)/gm)].map((m) => m[1]);
  return options.filter((o) => o !== '--help' && o !== '--version').sort();
}

/** Long options named in the first column of a section's option tables (or its prose, for predict). */
function documentedOptions(section: string): Set<string> {
  return new Set([...section.matchAll(/`(?:-\w, )?(--[\w-]+)/g)].map((m) => m[1]));
}

test('spymate-tui: every option is in docs/design.md and nothing else is', () => {
  const documented = [...documentedOptions(designSection('### `spymate-tui`'))].sort();
  assert.deepEqual(documented, helpOptions('spymate-tui.js', []));
});

test('spymate extract: every option is in docs/design.md and nothing else is', () => {
  const documented = [...documentedOptions(designSection('### `spymate extract`'))].sort();
  assert.deepEqual(documented, helpOptions('spymate.js', ['extract']));
});

test('spymate train, eval, predict: every option is in docs/design.md and nothing else is', () => {
  const documented = documentedOptions(designSection('### `spymate train`, `eval`, `predict`'));
  const offered = new Set<string>();
  for (const command of ['train', 'eval', 'predict']) {
    const options = helpOptions('spymate.js', [command]);
    assert.deepEqual(
      options.filter((o) => !documented.has(o)),
      [],
      `spymate ${command}: options missing from docs/design.md`,
    );
    for (const o of options) offered.add(o);
  }
  assert.deepEqual(
    [...documented].filter((o) => !offered.has(o)),
    [],
    'docs/design.md names options no command offers',
  );
});

test('spymate train-calls: every option is in docs/design.md and nothing else is', () => {
  const documented = [...documentedOptions(designSection('### `spymate train-calls`'))].sort();
  assert.deepEqual(documented, helpOptions('spymate.js', ['train-calls']));
});
