import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../rules/paths';

/**
 * The text of one section of docs/design.md, from its heading (given whole, e.g. '## Columns')
 * to the next heading of the same or a higher level: what the contract tests compare with the code.
 */
export function designSection(heading: string): string {
  const text = fs.readFileSync(path.join(projectRoot(), 'docs', 'design.md'), 'utf8');
  const start = text.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`docs/design.md has no heading '${heading}'`);
  const level = heading.indexOf(' ');
  const body = text.slice(start + heading.length + 2);
  const next = body.search(new RegExp(`^#{1,${level}} `, 'm'));
  return next < 0 ? body : body.slice(0, next);
}
