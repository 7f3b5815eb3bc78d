/**
 * Writes the remote peers' labels (NAME.B.labels.csv, …) of every recording in DIR from its
 * NAME.json: `node dist/src/lab/remote-labels.js [DIR]` (default test/fixtures/calls). The lab
 * writes them itself since it records the remote clocks; this makes them for older recordings.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { projectRoot } from '../rules/paths';
import { remoteLabels, type RecordedPeers } from './schedule';

const dir = process.argv[2] ?? path.join(projectRoot(), 'test', 'fixtures', 'calls');
for (const f of fs
  .readdirSync(dir)
  .filter((n) => n.endsWith('.json'))
  .sort()) {
  const rec = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as RecordedPeers;
  for (const r of remoteLabels(rec)) {
    fs.writeFileSync(path.join(dir, r.file), r.csv);
    console.log(`${r.file} (${r.ip})`);
  }
}
