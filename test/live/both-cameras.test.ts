import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { FEATURE_NAMES } from '../../src/features/names';
import { parseCidr } from '../../src/flow/local';
import { loadDataSet } from '../../src/model/data';
import { projectRoot } from '../../src/rules/paths';
import { ndjsonRecords, runCli, tmpDir } from './run-cli';
import { spymate } from '../../src/testkit/spymate-cli';

/**
 * The remote camera is judged as the local one would be from the other end: the monitor's
 * remotePresence seen from peer A is peer B's presence seen from B, window by window.
 */

const CALL = 'kitchen-h264';
const DIR = path.join(projectRoot(), 'test', 'fixtures', 'calls');
const TRACE = path.join(DIR, `${CALL}.pcapng.gz`);
const skip = !fs.existsSync(TRACE) && `lab recording ${CALL} not in test/fixtures/calls`;

function peers(): { a: string; b: string } {
  const meta = JSON.parse(fs.readFileSync(path.join(DIR, `${CALL}.json`), 'utf8')) as {
    peers: Record<string, { ip: string }>;
  };
  return { a: meta.peers.A.ip, b: meta.peers.B.ip };
}

test("the remote column seen from one end is the other end's local column, window by window", { skip }, async () => {
  const { a, b } = peers();
  const dir = tmpDir('both-cameras');
  const replay = async (local: string): Promise<Array<Record<string, unknown>>> => {
    const r = await runCli([
      '-f',
      TRACE,
      '--headless',
      '--speed',
      'max',
      '--local',
      local,
      '--db',
      path.join(dir, `${local}.db`),
    ]);
    assert.equal(r.code, 0, r.stderr);
    return ndjsonRecords(r.stdout).filter((w) => w.event === 'window');
  };
  const fromA = await replay(a);
  const fromB = new Map((await replay(b)).map((w) => [w.start, w]));
  assert.ok(fromA.length > 200);
  for (const w of fromA) {
    const o = fromB.get(w.start) as Record<string, unknown>;
    assert.ok(o, `window at ${String(w.start)}`);
    assert.deepEqual(
      [w.remotePresence, w.remoteProbability, w.remoteCertainty, w.presence, w.probability],
      [o.presence, o.probability, o.certainty, o.remotePresence, o.remoteProbability],
      `window at ${String(w.start)}`,
    );
  }
  assert.ok(fromA.some((w) => w.remotePresence === 'person') && fromA.some((w) => w.remotePresence === 'background'));
});

test(
  "loadDataSet side 'remote' gives the other end's windows: the data the remote column is scored on",
  { skip },
  async () => {
    const { a, b } = peers();
    const labels = path.join(DIR, `${CALL}.B.labels.csv`);
    const opts = { labels: [labels], needLabels: true, notice: () => undefined };
    const column = await loadDataSet([TRACE], { ...opts, local: [parseCidr(a)], side: 'remote' });
    const other = await loadDataSet([TRACE], { ...opts, local: [parseCidr(b)] });
    assert.deepEqual(column.features, [...FEATURE_NAMES]);
    assert.equal(column.sequences.length, other.sequences.length);
    const [x, y] = [column.sequences[0], other.sequences[0]];
    assert.deepEqual([...x.times], [...y.times]);
    assert.deepEqual([...x.labels], [...y.labels]);
    x.rows.forEach((r, i) => assert.deepEqual([...r], [...y.rows[i]], `window ${i}`));
  },
);

test("spymate predict writes both cameras: the remote_* columns from one end are the other end's own", { skip }, () => {
  const { a, b } = peers();
  const dir = tmpDir('both-cameras-predict');
  const predict = (local: string): Map<string, string[]> => {
    const r = spymate(['predict', TRACE, '--local', local], dir);
    assert.equal(r.code, 0, r.stderr);
    const [head, ...rows] = r.stdout.trim().split('\n');
    assert.equal(
      head,
      'time,flow,raw,final,probability,certainty,remote_raw,remote_final,remote_probability,remote_certainty',
    );
    return new Map(rows.map((l) => l.split(',')).map((c) => [c[0], c.slice(2)]));
  };
  const fromA = predict(a);
  const fromB = predict(b);
  assert.ok(fromA.size > 200);
  for (const [t, cells] of fromA) {
    const other = fromB.get(t) as string[];
    assert.deepEqual(cells.slice(4), other.slice(0, 4), `window at ${t}`);
  }
});
