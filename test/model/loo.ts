/**
 * Leave-one-recording-out on the lab calls: `node dist/test/model/loo.js [DIR] [--algo A] ...`.
 * For each NAME.pcapng[.gz] with NAME.labels.csv in DIR (default test/fixtures/calls), trains on
 * all the others and scores the causal final predictions on it — never on its own windows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadDataSet } from '../../src/model/data';
import { identityIndex, runSpan } from '../../src/model/evaluate';
import { evaluateOutcomes } from '../../src/model/metrics';
import { DEFAULT_TRAIN_OPTIONS, trainModel, wholeSpans, type TrainOptions } from '../../src/model/train';
import type { DataSet } from '../../src/model/types';
import { projectRoot } from '../../src/rules/paths';
import { parseCidr, type Cidr } from '../../src/flow/local';

function recordings(dir: string): { name: string; trace: string; labels: string }[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /\.pcapng(\.gz)?$/.test(f))
    .map((f) => ({ name: f.replace(/\.pcapng(\.gz)?$/, ''), trace: path.join(dir, f) }))
    .map((r) => ({ ...r, labels: path.join(dir, `${r.name}.labels.csv`) }))
    .filter((r) => fs.existsSync(r.labels))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** The lab's NAME.json says which address is the capturing peer's: in/out must mean the same in every recording. */
function localOf(dir: string, name: string): Cidr[] {
  const meta = path.join(dir, `${name}.json`);
  if (!fs.existsSync(meta)) return [];
  const ip = (JSON.parse(fs.readFileSync(meta, 'utf8')) as { localIp?: string }).localIp;
  return ip ? [parseCidr(ip)] : [];
}

function main(): void {
  const args = process.argv.slice(2);
  const dir = args[0] && !args[0].startsWith('--') ? args[0] : path.join(projectRoot(), 'test', 'fixtures', 'calls');
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS };
  for (let i = 0; i < args.length; i++) {
    const m = /^--(\w+)$/.exec(args[i]);
    if (m && m[1] in o) (o as unknown as Record<string, unknown>)[m[1]] = m[1] === 'algo' ? args[++i] : m[1] === 'absolute' ? args[++i] === 'true' : Number(args[++i]);
  }
  const recs = recordings(dir);
  const sets = new Map<string, DataSet>();
  for (const r of recs) sets.set(r.name, loadDataSet([r.trace], { labels: [r.labels], local: localOf(dir, r.name), needLabels: true, notice: () => undefined }));
  const runs = [];
  for (const r of recs) {
    const others = recs.filter((x) => x !== r).map((x) => sets.get(x.name) as DataSet);
    const train: DataSet = { ...others[0], sequences: others.flatMap((d) => d.sequences), inputs: others.flatMap((d) => d.inputs) };
    const model = trainModel(train, o, 'loo');
    const test = sets.get(r.name) as DataSet;
    const rr = wholeSpans(test.sequences).map((s) => runSpan(model, s, identityIndex(test.features.length), (test.windowMs ?? 500) / 1000));
    runs.push(...rr);
    const e = evaluateOutcomes(rr);
    console.log(`${r.name.padEnd(28)} ${String(e.windows).padStart(6)} windows  accuracy ${(100 * e.accuracy).toFixed(1)} %  raw ${(100 * e.rawAccuracy).toFixed(1)} %  delay ${e.delayS ?? 'n/a'} s`);
  }
  const all = evaluateOutcomes(runs);
  console.log(`${'overall'.padEnd(28)} ${String(all.windows).padStart(6)} windows  accuracy ${(100 * all.accuracy).toFixed(1)} %  raw ${(100 * all.rawAccuracy).toFixed(1)} %  delay ${all.delayS ?? 'n/a'} s`);
}

main();
