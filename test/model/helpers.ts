import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../src/rules/paths';

export const SPYMATE = path.join(projectRoot(), 'dist', 'src', 'cli', 'spymate.js');

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-model-'));
}

export function spymate(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SPYMATE, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
