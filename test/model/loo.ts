/**
 * Leave-one-recording-out on the lab calls: `node dist/test/model/loo.js [DIR] [--algo A] [--only REGEX] ...`
 * (`--only` keeps the input features whose name matches, e.g. `^out_` for the outbound ones;
 * `--markdown` prints the README table).
 * For each NAME.pcapng[.gz] with NAME.labels.csv and NAME.json in DIR (default test/fixtures/calls), trains on
 * all the others and scores the causal final predictions on it — never on its own windows.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FEATURE_NAMES } from '../../src/features/names';
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
    // a recording is complete once the lab has written its NAME.json
    .filter((r) => fs.existsSync(r.labels) && fs.existsSync(path.join(dir, `${r.name}.json`)))
    .sort((a, b) => a.name.localeCompare(b.name));
}

interface LabMeta {
  localIp?: string;
  codec?: string;
  maxKbps?: number;
}

function metaOf(dir: string, name: string): LabMeta {
  return JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as LabMeta;
}

/** The lab's NAME.json says which address is the capturing peer's: in/out must mean the same in every recording. */
function localOf(meta: LabMeta): Cidr[] {
  return meta.localIp ? [parseCidr(meta.localIp)] : [];
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

function main(): void {
  const args = process.argv.slice(2);
  const dir = args[0] && !args[0].startsWith('--') ? args[0] : path.join(projectRoot(), 'test', 'fixtures', 'calls');
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS };
  let only = /./;
  const markdown = args.includes('--markdown');
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--only') only = new RegExp(args[++i]);
    const m = /^--(\w+)$/.exec(args[i]);
    if (m && m[1] in o) (o as unknown as Record<string, unknown>)[m[1]] = m[1] === 'algo' ? args[++i] : m[1] === 'absolute' || m[1] === 'frameRegularity' ? args[++i] === 'true' : Number(args[++i]);
  }
  const recs = recordings(dir);
  const sets = new Map<string, DataSet>();
  const features = FEATURE_NAMES.filter((f) => only.test(f));
  for (const r of recs) sets.set(r.name, loadDataSet([r.trace], { labels: [r.labels], local: localOf(metaOf(dir, r.name)), needLabels: true, notice: () => undefined, features }));
  if (markdown) {
    console.log('| recording | codec, cap | windows | accuracy (causal) | raw (per window) | median delay |');
    console.log('|---|---|---|---|---|---|');
  }
  const runs = [];
  for (const r of recs) {
    const others = recs.filter((x) => x !== r).map((x) => sets.get(x.name) as DataSet);
    const train: DataSet = { ...others[0], sequences: others.flatMap((d) => d.sequences), inputs: others.flatMap((d) => d.inputs) };
    const model = trainModel(train, o, 'loo');
    const test = sets.get(r.name) as DataSet;
    const rr = wholeSpans(test.sequences).map((s) => runSpan(model, s, identityIndex(test.features.length), (test.windowMs ?? 500) / 1000));
    runs.push(...rr);
    const e = evaluateOutcomes(rr);
    const m = metaOf(dir, r.name);
    const flows = test.sequences.length > 1 ? ` (${test.sequences.length} calls)` : '';
    if (markdown) console.log(`| ${r.name}${flows} | ${m.codec ?? '?'}, ${m.maxKbps ?? '?'} kbit/s | ${e.windows} | ${pct(e.accuracy)} | ${pct(e.rawAccuracy)} | ${e.delayS ?? 'n/a'} s |`);
    else console.log(`${r.name.padEnd(28)} ${String(e.windows).padStart(6)} windows  accuracy ${pct(e.accuracy)}  raw ${pct(e.rawAccuracy)}  delay ${e.delayS ?? 'n/a'} s`);
  }
  const all = evaluateOutcomes(runs);
  if (markdown) console.log(`| **overall** | | **${all.windows}** | **${pct(all.accuracy)}** | ${pct(all.rawAccuracy)} | ${all.delayS ?? 'n/a'} s |`);
  else console.log(`${'overall'.padEnd(28)} ${String(all.windows).padStart(6)} windows  accuracy ${pct(all.accuracy)}  raw ${pct(all.rawAccuracy)}  delay ${all.delayS ?? 'n/a'} s`);
}

main();
