import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { projectRoot } from '../../src/rules/paths';
import { writePcap } from '../../src/testkit/trace-writer';
import { syntheticCall } from '../../src/testkit/synthetic';
import { tempDir } from '../../src/testkit/temp';

/** What the programs say about themselves: help texts, no-argument runs, the exit summary. */

const BIN = path.join(projectRoot(), 'dist', 'src', 'cli');

function run(prog: 'spymate' | 'spymate-tui', args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [path.join(BIN, `${prog}.js`), ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const HELPS: Array<['spymate' | 'spymate-tui', string[]]> = [
  ['spymate-tui', ['--help']],
  ['spymate', ['--help']],
  ...['extract', 'train', 'eval', 'predict', 'train-calls'].map((c): ['spymate', string[]] => [
    'spymate',
    [c, '--help'],
  ]),
];

test('help texts: no empty defaults, one default per option, placeholders in capitals', () => {
  for (const [prog, args] of HELPS) {
    const r = run(prog, args);
    const what = `${prog} ${args.join(' ')}`;
    assert.equal(r.code, 0, what);
    // commander wraps long lines: join an option's lines before looking at its defaults
    const options = r.out.replace(/\n {20,}/g, ' ').split('\n');
    for (const line of options) {
      assert.doesNotMatch(line, /\(default: (\[\]|"")\)/, `${what}: ${line}`);
      assert.ok((line.match(/\(default:/g) ?? []).length <= 1, `${what}: two defaults in ${line}`);
      assert.doesNotMatch(line, /<[a-z][a-z.|:-]*>/, `${what}: lower-case placeholder in ${line}`);
    }
  }
});

test('spymate with no arguments prints its help on stderr and exits 2', () => {
  const r = run('spymate', []);
  assert.equal(r.code, 2);
  assert.equal(r.out, '');
  assert.match(r.err, /^Usage: spymate \[options\] \[command\]/);
  assert.match(r.err, /extract .*\n.*train .*\n/s);
});

test('the exit summary counts in the singular when there is one', () => {
  const dir = tempDir('summary');
  const trace = path.join(dir, 'one.pcap');
  writePcap(
    trace,
    syntheticCall({ a: '10.0.0.1', b: '192.0.2.9', aPort: 5000, bPort: 6000, start: 1_700_000_000, seconds: 4 }),
  );
  const r = run('spymate-tui', ['-f', trace, '--speed', 'max', '--headless', '--db', path.join(dir, 'one.db')]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /^spymate-tui: \d+ packets, 0 dropped, 1 flow, 1 call, \d+ windows, \d+ records /m);
});
