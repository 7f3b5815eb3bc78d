import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../rules/paths';
import { tempDir } from './temp';

export const SPYMATE = path.join(projectRoot(), 'dist', 'src', 'cli', 'spymate.js');

export const tmpDir = (): string => tempDir('model');

export function spymate(args: string[], cwd: string): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [SPYMATE, ...args], { cwd, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The lab recordings (test/fixtures/calls). */
export const LAB_DIR = path.join(projectRoot(), 'test', 'fixtures', 'calls');

interface LabMeta {
  localIp: string;
  peers?: Record<string, { ip: string }>;
}

/** Names of the complete lab recordings (JSON, trace and labels), sorted. */
export function labRecordings(): string[] {
  if (!fs.existsSync(LAB_DIR)) return [];
  return fs
    .readdirSync(LAB_DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .filter(
      (n) =>
        fs.existsSync(path.join(LAB_DIR, `${n}.pcapng.gz`)) && fs.existsSync(path.join(LAB_DIR, `${n}.labels.csv`)),
    )
    .sort();
}

export function labLocalIp(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(LAB_DIR, `${name}.json`), 'utf8')) as LabMeta).localIp;
}

/**
 * DATA arguments for a lab recording as the training command of docs/lab.md gives them: peer A's
 * labelled direction, and with `remote` also peer B's (calls with one remote peer only: with two,
 * an address cannot tell one remote's flow from the other's).
 */
export function labDataArgs(name: string, remote: boolean): string[] {
  const meta = JSON.parse(fs.readFileSync(path.join(LAB_DIR, `${name}.json`), 'utf8')) as LabMeta;
  const trace = path.join(LAB_DIR, `${name}.pcapng.gz`);
  const args = [trace, '--labels', path.join(LAB_DIR, `${name}.labels.csv`), '--local-each', meta.localIp];
  // the same rule as loo.ts: exactly one remote peer, whose camera is labelled
  const remotes = Object.entries(meta.peers ?? {}).filter(([peer]) => peer !== 'A');
  const labels = (peer: string): string => path.join(LAB_DIR, `${name}.${peer}.labels.csv`);
  if (remote && remotes.length === 1 && fs.existsSync(labels(remotes[0][0]))) {
    args.push(trace, '--labels', labels(remotes[0][0]), '--local-each', remotes[0][1].ip);
  }
  return args;
}
