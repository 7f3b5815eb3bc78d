import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { benchCacheDir, projectRootFromBench, type BenchContext, type BenchSection } from './bench';

/** `npm run bench [-- SECTION...]`: runs every src/bench/*.ts that exports benchSection. */
async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const sections: BenchSection[] = [];
  for (const f of fs
    .readdirSync(__dirname)
    .filter((n) => n.endsWith('.js') && n !== 'run.js' && n !== 'rss-probe.js' && n !== 'read-speed.js')
    .sort()) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- sections are found at run time
    const mod = require(path.join(__dirname, f)) as { benchSection?: BenchSection };
    if (mod.benchSection && (only.length === 0 || only.includes(mod.benchSection.name)))
      sections.push(mod.benchSection);
  }
  if (sections.length === 0) throw new Error(`no bench section named ${only.join(', ')}`);
  const ctx: BenchContext = {
    root: projectRootFromBench(),
    cacheDir: benchCacheDir(),
    report: (name, value, unit, note) => {
      const v = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
      console.log(`  ${name.padEnd(44)} ${v.padStart(12)} ${unit}${note ? `  (${note})` : ''}`);
    },
  };
  const failed: string[] = [];
  for (const s of sections) {
    // What the sections before wrote goes to disk first, untimed: left to the kernel's writeback it
    // took this section's CPU (four sensors into PostgreSQL: 83 000-127 000 records/s behind 2 GB
    // of dirty pages, 122 000-132 000 after a sync).
    spawnSync('sync', { stdio: 'ignore' });
    console.log(`[${s.name}]`);
    try {
      await s.run(ctx);
    } catch (err) {
      // one broken section should not hide the others' figures
      console.log(`  FAILED: ${err instanceof Error ? err.message : String(err)}`);
      failed.push(s.name);
    }
  }
  if (failed.length > 0) throw new Error(`sections failed: ${failed.join(', ')}`);
}

if (require.main === module) {
  main().catch((err) => {
    console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  });
}
