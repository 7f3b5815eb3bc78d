/**
 * Leave-one-recording-out on the lab calls: `node dist/src/lab/experiments/loo.js [DIR] [--only REGEX] [--TRAIN-OPTION V] ...`
 * (train options by their TrainOptions name, e.g. `--min-leaf 30`, `--shape-levels false`; `--only` keeps the input features whose name matches, e.g. `^out_` for the outbound ones;
 * `--markdown` prints the table of docs/results.md; trains on both directions of the other calls, as the shipped
 * model is (`--local-only`: peer A's camera only);
 * `--model FILE` scores that model on every recording instead, e.g. the shipped one on new lab calls).
 * For each NAME.pcapng[.gz] with NAME.labels.csv and NAME.json in DIR (default test/fixtures/calls), trains on
 * all the others and scores the causal final predictions on it — never on its own windows.
 *
 * The remote peers film labelled scenes too (NAME.B.labels.csv): their direction of a held-out
 * recording is scored by the same model, as a second test of calls it never saw. Only recordings
 * with one remote: with two, `--local` cannot tell one remote's flow from the other's.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FEATURE_NAMES } from '../../features/names';
import { loadDataSet } from '../../model/data';
import { identityIndex, runSpan, type SequenceRun } from '../../model/evaluate';
import { loadModel } from '../../model/load';
import { evaluateOutcomes } from '../../model/metrics';
import { DEFAULT_TRAIN_OPTIONS, trainModel, wholeSpans, type TrainOptions } from '../../model/train';
import type { DataSet, ModelFile } from '../../model/types';
import { projectRoot } from '../../rules/paths';
import { parseCidr } from '../../flow/local';

interface LabMeta {
  localIp?: string;
  codec?: string;
  maxKbps?: number;
  peers?: Record<string, { ip: string }>;
}

/** One labelled direction of a recording: whose camera (`peer`), seen with that peer as local. */
interface View {
  peer: string;
  data: DataSet;
}

interface Recording {
  name: string;
  meta: LabMeta;
  local: View;
  remote: View[];
  /**
   * the same remote cameras as the monitor judges them: seen from peer A (A local), the remote
   * side's values under the local side's names (loadDataSet side 'remote'), its remotePresence column
   */
  remoteColumn: View[];
}

async function load(
  trace: string,
  labels: string,
  ip: string,
  peer: string,
  features: string[],
  side: 'local' | 'remote' = 'local',
): Promise<View> {
  const data = await loadDataSet([trace], {
    labels: [labels],
    local: [parseCidr(ip)],
    needLabels: true,
    notice: () => undefined,
    features,
    side,
  });
  return { peer, data };
}

async function recordings(dir: string, features: string[]): Promise<Recording[]> {
  const found = fs
    .readdirSync(dir)
    .filter((f) => /\.pcapng(\.gz)?$/.test(f))
    .map((f) => ({ name: f.replace(/\.pcapng(\.gz)?$/, ''), trace: path.join(dir, f) }))
    // a recording is complete once the lab has written its NAME.json
    .filter(
      (r) => fs.existsSync(path.join(dir, `${r.name}.labels.csv`)) && fs.existsSync(path.join(dir, `${r.name}.json`)),
    )
    .sort((a, b) => a.name.localeCompare(b.name));
  const out: Recording[] = [];
  for (const r of found) {
    const meta = JSON.parse(fs.readFileSync(path.join(dir, `${r.name}.json`), 'utf8')) as LabMeta;
    // in/out must mean the same in every recording: the lab's JSON says which address is the capturing peer's
    if (!meta.localIp) throw new Error(`${r.name}.json has no localIp`);
    const remotes = Object.entries(meta.peers ?? {}).filter(([peer]) => peer !== 'A');
    const labelled =
      remotes.length === 1
        ? remotes.filter(([peer]) => fs.existsSync(path.join(dir, `${r.name}.${peer}.labels.csv`)))
        : [];
    const labels = (peer: string): string => path.join(dir, `${r.name}.${peer}.labels.csv`);
    const remote: View[] = [];
    const remoteColumn: View[] = [];
    for (const [peer, p] of labelled) {
      remote.push(await load(r.trace, labels(peer), p.ip, peer, features));
      remoteColumn.push(await load(r.trace, labels(peer), meta.localIp, peer, features, 'remote'));
    }
    out.push({
      name: r.name,
      meta,
      local: await load(r.trace, path.join(dir, `${r.name}.labels.csv`), meta.localIp, 'A', features),
      remote,
      remoteColumn,
    });
  }
  return out;
}

const pct = (x: number): string => `${(100 * x).toFixed(1)} %`;

function merged(sets: DataSet[]): DataSet {
  return { ...sets[0], sequences: sets.flatMap((d) => d.sequences), inputs: sets.flatMap((d) => d.inputs) };
}

/**
 * Accuracy before a call's first change of state and after it: until then nothing relative to
 * the call's own history can tell which state it is in (the warm-up docs/results.md discusses).
 */
function warmUp(runs: readonly SequenceRun[]): string {
  const n = [0, 0];
  const ok = [0, 0];
  for (const r of runs) {
    let first: number | null = null;
    let later = 0;
    for (let i = 0; i < r.labels.length; i++) {
      const l = r.labels[i];
      if (l < 0) continue;
      if (first === null) first = l;
      else if (l !== first) later = 1;
      n[later]++;
      if (r.final[i] === l) ok[later]++;
    }
  }
  return `first state ${pct(ok[0] / n[0])}, later ${pct(ok[1] / n[1])}`;
}

/**
 * Sets the TrainOptions field named by args[i] (`--min-leaf 30` or `--minLeaf 30`) from args[i + 1];
 * returns the index of the value. An option that names no field stops the run: ignoring it would
 * print figures for the defaults under the name of a variant.
 */
function setTrainOption(o: TrainOptions, args: readonly string[], i: number): number {
  const key = /^--([a-zA-Z-]+)$/.exec(args[i])?.[1].replace(/-(\w)/g, (_, c: string) => c.toUpperCase());
  if (!key || !(key in o) || i + 1 >= args.length) {
    console.error(`loo: unknown option or missing value: ${args[i]} (train options: ${Object.keys(o).join(', ')})`);
    process.exit(2);
  }
  const v = args[i + 1];
  const flag = typeof o[key as keyof TrainOptions] === 'boolean' || key === 'absolute';
  const value =
    key === 'algo'
      ? v
      : flag
        ? v === 'true'
          ? true
          : v === 'false'
            ? false
            : key === 'absolute' && v === 'auto'
              ? v
              : undefined
        : Number(v);
  if (value === undefined || (typeof value === 'number' && !Number.isFinite(value))) {
    console.error(
      `loo: --${key} takes ${flag ? (key === 'absolute' ? 'true, false or auto' : 'true or false') : 'a number'}, not "${v}"`,
    );
    process.exit(2);
  }
  (o as unknown as Record<string, unknown>)[key] = value;
  return i + 1;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const dir = args[0] && !args[0].startsWith('--') ? args[0] : path.join(projectRoot(), 'test', 'fixtures', 'calls');
  const o: TrainOptions = { ...DEFAULT_TRAIN_OPTIONS };
  let only = /./;
  const markdown = args.includes('--markdown');
  const trainRemote = !args.includes('--local-only');
  const given = args.includes('--model')
    ? loadModel(args[args.indexOf('--model') + 1], { windowMs: 500, featureNames: FEATURE_NAMES }).meta
    : null;
  for (let i = args[0] === dir ? 1 : 0; i < args.length; i++) {
    if (args[i] === '--only') only = new RegExp(args[++i]);
    else if (args[i] === '--model') i++;
    else if (args[i] !== '--markdown' && args[i] !== '--local-only') i = setTrainOption(o, args, i);
  }
  const recs = await recordings(
    dir,
    FEATURE_NAMES.filter((f) => only.test(f)),
  );
  if (markdown) {
    console.log(
      '| recording | codec, cap | windows | accuracy (causal) | raw (per window) | median delay | remote side |',
    );
    console.log('|---|---|---|---|---|---|---|');
  }
  const runs: SequenceRun[] = [];
  const remoteRuns: SequenceRun[] = [];
  const columnRuns: SequenceRun[] = [];
  const score = (model: ModelFile, d: DataSet): SequenceRun[] => {
    const index = given
      ? Int32Array.from(model.features, (f) => d.features.indexOf(f))
      : identityIndex(d.features.length);
    return wholeSpans(d.sequences).map((s) => runSpan(model, s, index, (d.windowMs ?? 500) / 1000));
  };
  for (const r of recs) {
    const others = recs.filter((x) => x !== r).flatMap((x) => [x.local, ...(trainRemote ? x.remote : [])]);
    const model = given ?? trainModel(merged(others.map((v) => v.data)), o, 'loo');
    const rr = score(model, r.local.data);
    runs.push(...rr);
    const rb = r.remote.flatMap((v) => score(model, v.data));
    remoteRuns.push(...rb);
    columnRuns.push(...r.remoteColumn.flatMap((v) => score(model, v.data)));
    const e = evaluateOutcomes(rr);
    const remote = rb.length > 0 ? pct(evaluateOutcomes(rb).accuracy) : '—';
    const flows = r.local.data.sequences.length > 1 ? ` (${r.local.data.sequences.length} calls)` : '';
    if (markdown)
      console.log(
        `| ${r.name}${flows} | ${r.meta.codec ?? '?'}, ${r.meta.maxKbps === 0 ? 'no cap' : `${r.meta.maxKbps ?? '?'} kbit/s`} | ${e.windows} | ${pct(e.accuracy)} | ${pct(e.rawAccuracy)} | ${e.delayS ?? 'n/a'} s | ${remote} |`,
      );
    else
      console.log(
        `${r.name.padEnd(28)} ${String(e.windows).padStart(6)} windows  accuracy ${pct(e.accuracy)}  raw ${pct(e.rawAccuracy)}  delay ${e.delayS ?? 'n/a'} s  remote side ${remote}`,
      );
  }
  const all = evaluateOutcomes(runs);
  const rem = remoteRuns.length > 0 ? evaluateOutcomes(remoteRuns) : null;
  const remText = rem ? `${pct(rem.accuracy)} (${rem.windows} windows, ${remoteRuns.length} streams)` : '—';
  if (markdown)
    console.log(
      `| **overall** | | **${all.windows}** | **${pct(all.accuracy)}** | ${pct(all.rawAccuracy)} | ${all.delayS ?? 'n/a'} s | ${remText} |`,
    );
  else {
    console.log(
      `${'overall'.padEnd(28)} ${String(all.windows).padStart(6)} windows  accuracy ${pct(all.accuracy)}  raw ${pct(all.rawAccuracy)}  delay ${all.delayS ?? 'n/a'} s  remote side ${remText}`,
    );
    console.log(`${''.padEnd(28)} local: ${warmUp(runs)}${rem ? `; remote: ${warmUp(remoteRuns)}` : ''}`);
  }
  if (columnRuns.length > 0) {
    // the monitor's remotePresence on the same streams: it must score as the remote side does
    const col = evaluateOutcomes(columnRuns);
    console.log(
      `${'remote column'.padEnd(28)} ${String(col.windows).padStart(6)} windows  accuracy ${pct(col.accuracy)}  ` +
        `(${columnRuns.length} streams, judged from peer A's side as the monitor's remotePresence column)`,
    );
  }
}

void main();
