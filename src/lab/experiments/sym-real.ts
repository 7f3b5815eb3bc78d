/**
 * The Spy Your Mate acceptance procedure on real WebRTC calls: `spymate train A.csv B.csv
 * --label-column Person -o m.json`, then `spymate eval --model m.json C.csv --json`, on lab calls
 * in the report's CSV form (src/lab/experiments/sym-csv.ts; test/fixtures/sym/README.md says how they were made).
 *
 *   node dist/src/lab/experiments/sym-real.js [DIR]
 *
 * One setup: the three calls of a setup (NAME-cK.csv with the same NAME), each held out once and
 * the other two trained on — the report's situation (one laptop, one app, three calls).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { projectRoot } from '../../rules/paths';
import { spymate } from '../../testkit/spymate-cli';

export const SYM_DIR = path.join(projectRoot(), 'test', 'fixtures', 'sym');

export interface Rotation {
  setup: string;
  train: [string, string];
  test: string;
  accuracy: number;
  delay: number | null;
}

/** Setup name → its calls' file names, for every setup with exactly three calls. */
export function setups(dir: string): Map<string, string[]> {
  const bySetup = new Map<string, string[]>();
  for (const f of fs
    .readdirSync(dir)
    .filter((n) => /-c\d+\.csv$/.test(n))
    .sort()) {
    const s = f.replace(/-c\d+\.csv$/, '');
    bySetup.set(s, [...(bySetup.get(s) ?? []), f]);
  }
  return new Map([...bySetup].filter(([, calls]) => calls.length === 3));
}

/** Train on two files, score the third, through the CLI exactly as the acceptance runs it. */
export function heldOutCsv(
  dir: string,
  train: [string, string],
  test: string,
): { accuracy: number; delay: number | null } {
  // not tempDir(): this also runs as a script, outside the test runner
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-sym-'));
  try {
    const model = path.join(work, 'm.json');
    const tr = spymate(
      ['train', ...train.map((f) => path.join(dir, f)), '--label-column', 'Person', '-o', model],
      work,
    );
    if (tr.code !== 0) throw new Error(`train ${train.join(' ')}: ${tr.stderr}`);
    const ev = spymate(['eval', '--model', model, path.join(dir, test), '--json'], work);
    if (ev.code !== 0) throw new Error(`eval ${test}: ${ev.stderr}`);
    const j = JSON.parse(ev.stdout) as { accuracy: number; delay_s: number | null };
    return { accuracy: j.accuracy, delay: j.delay_s };
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

export const meanAccuracy = (rows: readonly Rotation[]): number =>
  rows.reduce((a, r) => a + r.accuracy, 0) / rows.length;

export function oneSetupRotations(dir = SYM_DIR): Rotation[] {
  return [...setups(dir)].flatMap(([setup, calls]) =>
    calls.map((test) => {
      const train = calls.filter((c) => c !== test) as [string, string];
      return { setup, train, test, ...heldOutCsv(dir, train, test) };
    }),
  );
}

if (require.main === module) {
  const dir = process.argv[2] ?? SYM_DIR;
  const rows = oneSetupRotations(dir);
  const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;
  for (const r of rows) {
    process.stdout.write(
      `${r.test.padEnd(22)} trained on ${r.train.join(' + ').padEnd(36)} ${pct(r.accuracy).padStart(7)}  delay ${r.delay ?? '—'} s\n`,
    );
  }
  process.stdout.write(`mean over ${rows.length} held-out calls: ${pct(meanAccuracy(rows))}\n`);
}
