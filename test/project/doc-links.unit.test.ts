/**
 * The README and docs/ link to each other and into the tree: every relative link must name a file
 * that exists and, with a #fragment, a heading that file has (as GitHub makes heading anchors).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../../src/rules/paths';

const ROOT = projectRoot();

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as hyphens. */
export function anchorOf(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

function anchors(file: string): Set<string> {
  const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchorOf(m[1])));
}

function markdownFiles(): string[] {
  const docs = fs.readdirSync(path.join(ROOT, 'docs')).filter((f) => f.endsWith('.md'));
  return [path.join(ROOT, 'README.md'), ...docs.map((f) => path.join(ROOT, 'docs', f))];
}

test('anchorOf makes the anchors GitHub makes', () => {
  assert.equal(anchorOf('Records (`--out`, `--headless`)'), 'records---out---headless');
  assert.equal(anchorOf('`spymate train`, `eval`, `predict`'), 'spymate-train-eval-predict');
  assert.equal(anchorOf('The 93 % target'), 'the-93--target');
});

test('every relative link in README.md and docs/ leads to a file, and to a heading in it', () => {
  const broken: string[] = [];
  for (const file of markdownFiles()) {
    const text = fs.readFileSync(file, 'utf8').replace(/^```[\s\S]*?^```/gm, '');
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      const link = m[1];
      if (/^[a-z]+:/.test(link)) continue;
      const [target, fragment] = link.split('#');
      const resolved = target === '' ? file : path.resolve(path.dirname(file), target);
      const where = `${path.relative(ROOT, file)}: (${link})`;
      if (!fs.existsSync(resolved)) broken.push(`${where} no such file`);
      else if (fragment !== undefined && !anchors(resolved).has(fragment)) broken.push(`${where} no such heading`);
    }
  }
  assert.deepEqual(broken, []);
});
