/**
 * `npm test` runs `*.unit.test.ts` files concurrently and every other `*.test.ts` file one at a
 * time (docs/development.md, "Tests"). Running a file concurrently is safe only if it starts no
 * process and touches no state other tests share: no child processes (tmux, Chromium, tshark, the
 * CLI), no network namespaces, sockets or ports, no worker threads. This checks it from the
 * imports: nothing a unit file imports, directly or through project modules, may load the Node
 * modules that do those things. A test that needs them is an integration test: name it `*.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/rules/paths';

const ROOT = projectRoot();

/**
 * Node modules that start processes or threads, or reach the network. (`net` is not among them:
 * the address parsers use its pure net.isIP.)
 */
const SHARED_STATE_MODULES = new Set([
  'child_process',
  'cluster',
  'worker_threads',
  'dgram',
  'http',
  'https',
  'http2',
  'tls',
  'inspector',
]);

function testFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return e.name === 'fixtures' ? [] : testFiles(p);
    return e.name.endsWith('.test.ts') ? [p] : [];
  });
}

/** Module specifiers a TypeScript file loads at run time (type-only imports are erased). */
export function runtimeImports(source: string): string[] {
  const specs: string[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?(?:[^'"`;]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of source.matchAll(statement)) if (!m[2]) specs.push(m[3]);
  for (const m of source.matchAll(/\b(?:require|import)\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

function resolveLocal(from: string, spec: string): string | null {
  const base = path.resolve(path.dirname(from), spec);
  for (const p of [`${base}.ts`, path.join(base, 'index.ts'), base]) {
    if (fs.existsSync(p) && fs.statSync(p).isFile() && p.endsWith('.ts')) return p;
  }
  return null;
}

/** The first forbidden Node module reachable from `file`, with the chain of files that leads to it. */
function sharedStateReach(file: string): string[] | null {
  const seen = new Set([file]);
  const queue: string[][] = [[file]];
  while (queue.length > 0) {
    const chain = queue.shift()!;
    const current = chain[chain.length - 1];
    for (const spec of runtimeImports(fs.readFileSync(current, 'utf8'))) {
      if (spec.startsWith('.')) {
        const next = resolveLocal(current, spec);
        if (next && !seen.has(next)) {
          seen.add(next);
          queue.push([...chain, next]);
        }
      } else if (SHARED_STATE_MODULES.has(spec.replace(/^node:/, '').split('/')[0])) {
        return [...chain, spec];
      }
    }
  }
  return null;
}

test('runtimeImports finds value imports and skips type-only ones', () => {
  const src = [
    "import { a } from './a';",
    "import type { B } from './b';",
    "import * as cp from 'node:child_process';",
    "export { c } from './c';",
    "export type { D } from './d';",
    "import './side-effect';",
    "const m = require('./m');",
    "const l = await import('../lazy');",
    "import {\n  e,\n  f,\n} from './ef';",
  ].join('\n');
  assert.deepEqual(runtimeImports(src).sort(), [
    '../lazy',
    './a',
    './c',
    './ef',
    './m',
    './side-effect',
    'node:child_process',
  ]);
});

test('unit test files start no process, thread or socket, directly or through what they import', () => {
  const all = testFiles(path.join(ROOT, 'test'));
  const unit = all.filter((f) => f.endsWith('.unit.test.ts'));
  assert.ok(unit.length > 0, 'no *.unit.test.ts files found');
  assert.ok(unit.length < all.length, 'no integration test files found');
  const offenders = unit.flatMap((f) => {
    const chain = sharedStateReach(f);
    return chain ? [chain.map((p) => (path.isAbsolute(p) ? path.relative(ROOT, p) : p)).join(' → ')] : [];
  });
  assert.deepEqual(
    offenders,
    [],
    'these unit test files reach a module that starts processes, threads or sockets; ' +
      'rename them *.test.ts (run one at a time) or import something narrower',
  );
});

test('the check sees a forbidden module behind a project import', () => {
  // src/testkit/spymate-cli.ts runs the CLI with spawnSync: a unit test may not import it.
  const chain = sharedStateReach(path.join(ROOT, 'src', 'testkit', 'spymate-cli.ts'));
  assert.deepEqual(chain?.slice(-1), ['node:child_process']);
});
