/**
 * A lab recording's labelled camera in the Spy Your Mate report's CSV form — an empty-header index
 * column, a `Time Interval` text column, its twelve features and the class `Person` — so the
 * report's own procedure (`spymate train A.csv B.csv --label-column Person`, then `spymate eval
 * --model m.json C.csv`) can be run on real WebRTC traffic, not only on synthetic calls.
 *
 *   node dist/src/lab/experiments/sym-csv.js OUT_DIR RECORDING.pcapng.gz ...
 *
 * Peer A's side (its camera is the labelled one: `outbound` = the person's own video, as on the
 * report's laptop); only labelled windows of the call flow, in time order.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataSet } from '../../model/data';
import { parseCidr } from '../../flow/local';
import { reportCsv } from './synth';

/** Our window features behind the report's twelve, in the order of synth.ts SYM_FEATURES. */
export const SYM_SOURCES = ['avg_interval', 'avg_size', 'packets', 'bytes'].flatMap((m) =>
  ['in', 'out', 'all'].map((d) => `${d}_${m}`),
);

export async function symCsv(trace: string): Promise<string> {
  const base = trace.replace(/\.pcapng(\.gz)?$/, '');
  const meta = JSON.parse(fs.readFileSync(`${base}.json`, 'utf8')) as { localIp: string };
  const data = await loadDataSet([trace], {
    labels: [`${base}.labels.csv`],
    local: [parseCidr(meta.localIp)],
    needLabels: true,
    notice: () => undefined,
    features: SYM_SOURCES,
  });
  if (data.sequences.length !== 1)
    throw new Error(`${trace}: ${data.sequences.length} labelled call flows, expected 1`);
  const seq = data.sequences[0];
  const labelled = [...seq.labels.keys()].filter((w) => seq.labels[w] >= 0);
  return reportCsv(
    labelled.map((w) => seq.rows[w]),
    labelled.map((w) => seq.labels[w]),
  );
}

if (require.main === module) {
  const [out, ...traces] = process.argv.slice(2);
  if (!out || traces.length === 0) {
    process.stderr.write('usage: node dist/src/lab/experiments/sym-csv.js OUT_DIR RECORDING.pcapng.gz ...\n');
    process.exit(2);
  }
  fs.mkdirSync(out, { recursive: true });
  void (async () => {
    for (const t of traces) {
      const file = path.join(out, `${path.basename(t).replace(/\.pcapng(\.gz)?$/, '')}.csv`);
      try {
        fs.writeFileSync(file, await symCsv(t));
      } catch (e) {
        process.stderr.write(`sym-csv: ${(e as Error).message}\n`);
        process.exit(1);
      }
      process.stdout.write(`${file}\n`);
    }
  })();
}
