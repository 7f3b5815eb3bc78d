import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../rules/paths';
import { writeCallNegatives, writeOpaqueCalls } from './call-traffic';

/**
 * `npm run train-calls`: remakes the shipped call classifier, rules/call-model.json, with the
 * documented command (`spymate train-calls --cv`) on
 *  - the lab recordings in test/fixtures (their calls are the flows the rules name),
 *  - nDPI's test captures in ../shared/realcalls/ndpi with nDPI's verdicts beside them, when
 *    present (REALCALLS_DIR overrides; they are read, never copied into the project),
 *  - the calls in no known format and the not-a-call traffic of call-traffic.ts, generated into
 *    a temporary directory.
 * Extra arguments go to spymate train-calls (e.g. -o /tmp/m.json to leave the shipped one alone).
 */
const root = projectRoot();
const fixtures = path.join(root, 'test', 'fixtures');
const lab = ['calls', 'camera-off']
  .flatMap((d) => fs.readdirSync(path.join(fixtures, d)).map((f) => path.join(fixtures, d, f)))
  .filter((f) => /\.pcap(ng)?(\.gz)?$/.test(f))
  .sort();
const realDir = process.env.REALCALLS_DIR ?? path.join(root, '..', 'shared', 'realcalls', 'ndpi');
const real = fs.existsSync(realDir)
  ? fs
      .readdirSync(realDir)
      .filter((f) => /\.pcap(ng)?$/.test(f) && fs.existsSync(path.join(realDir, `${f}.out`)))
      .sort()
      .map((f) => path.join(realDir, f))
  : [];
if (real.length === 0) process.stderr.write(`train-calls: no nDPI captures at ${realDir}: training without them\n`);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-negatives-'));
try {
  const negatives = writeCallNegatives(tmp);
  const opaque = writeOpaqueCalls(tmp);
  const args = [path.join(root, 'dist', 'src', 'cli', 'spymate.js'), 'train-calls', '--cv'];
  for (const f of lab) args.push(f, '--flows', 'rules');
  for (const f of real) args.push(f, '--flows', `${f}.out`);
  for (const f of opaque) args.push(f, '--flows', 'all');
  for (const f of negatives) args.push(f, '--flows', 'none');
  const extra = process.argv.slice(2);
  const shipped = !extra.includes('-o') && !extra.includes('--output');
  const target = path.join(root, 'rules', 'call-model.json');
  if (shipped) args.push('-o', target);
  const r = spawnSync(process.execPath, [...args, ...extra], { stdio: 'inherit' });
  // train-calls writes 0600 as every output; the shipped model is read by whoever runs spymate
  // (the monitor drops root to the invoking user or nobody), as git checks it out
  if (r.status === 0 && shipped) fs.chmodSync(target, 0o644);
  process.exitCode = r.status ?? 1;
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
