import * as fs from 'node:fs';
import * as path from 'node:path';

/** The project root (where package.json is), found from this file's place in dist/src/rules/ or src/rules/. */
export function projectRoot(): string {
  const up = path.basename(path.resolve(__dirname, '../..')) === 'dist' ? '../../..' : '../..';
  return path.resolve(__dirname, up);
}

/** spymate's version, from package.json. */
export function spymateVersion(): string {
  return (JSON.parse(fs.readFileSync(path.join(projectRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The shipped rules directory (also home of the shipped presence model). */
export function shippedRulesDir(): string {
  return path.join(projectRoot(), 'rules');
}
