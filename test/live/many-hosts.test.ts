/**
 * Many capture hosts, one view, with the real engines: a PostgreSQL cluster the test makes with
 * initdb, three sensors replaying different lab calls into it at once, one of them SIGKILLed
 * mid-run and started again, the server itself stopped for a few seconds mid-run; then every
 * window each sensor wrote to its --out NDJSON is in `windows` exactly once, and the view in tmux
 * shows the three sensors' calls, and a fourth sensor that died as QUIET.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../../src/rules/paths';
import { canMakeNetns, createVethPair } from '../../src/testkit/netns';
import { pgBinDir, startCluster, type PgCluster } from '../../src/testkit/postgres';
import { hasTmux, Tmux } from '../../src/testkit/tmux';
import { tempDir } from '../../src/testkit/temp';
import { BIN, runCli, sleep, startCli, type CliResult } from './run-cli';

const CALLS = path.join(projectRoot(), 'test', 'fixtures', 'calls');
const SENSORS: Array<[string, string]> = [
  ['s1', 'kitchen-h264.pcapng.gz'],
  ['s2', 'kitchen-vp8-500k.pcapng.gz'],
  ['s3', 'call-plus-web-vp9.pcapng.gz'],
];
const skip = pgBinDir()
  ? false
  : 'PostgreSQL not found (apt-get install postgresql; or set SPYMATE_PG_BIN): the many-hosts tests need it';

let pg: PgCluster;
before(async () => {
  if (!skip) pg = await startCluster('many');
});
after(() => pg?.destroy());

const rows = <T extends object>(sql: string, params: unknown[] = []): Promise<T[]> => pg.query<T>(sql, params);

/** The distinct (flowID, start) windows of an NDJSON file; a line cut by SIGKILL is skipped. */
function ndjsonWindows(file: string): Set<string> {
  const out = new Set<string>();
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    let o: { event?: string; flowID?: string; start?: number };
    try {
      o = JSON.parse(line) as typeof o;
    } catch {
      continue;
    }
    if (o.event === 'window') out.add(`${o.flowID} ${o.start}`);
  }
  return out;
}

function sensorArgs(dir: string, name: string, trace: string): string[] {
  return [
    '-f',
    path.join(CALLS, trace),
    '--speed',
    '10',
    '--headless',
    '--store',
    pg.url,
    '--sensor',
    name,
    '--out',
    path.join(dir, `${name}.ndjson`),
  ];
}

test(
  'three sensors, one killed and restarted, PostgreSQL stopped mid-run: every window stored exactly once, all calls in the view',
  { skip, timeout: 240_000 },
  async () => {
    const dir = tempDir('many');
    const runs = new Map<string, ReturnType<typeof startCli>>();
    for (const [name, trace] of SENSORS) runs.set(name, startCli(sensorArgs(dir, name, trace)));
    // a fourth sensor that dies and stays dead: the view must call it quiet
    const ghost = startCli(sensorArgs(dir, 'ghost', 'kitchen-vp9-350k.pcapng.gz'));

    const stored = async (name: string): Promise<number> =>
      (
        await rows<{ n: number }>('SELECT count(*)::int AS n FROM windows WHERE sensor = $1', [name]).catch(() => [
          { n: 0 },
        ])
      )[0].n;
    // s2 and the ghost have stored windows: kill both mid-run, start s2 again on the same trace
    const deadline = Date.now() + 60_000;
    while ((await stored('s2')) < 20 || (await stored('ghost')) < 20) {
      assert.ok(Date.now() < deadline, 'the sensors stored nothing within a minute');
      await sleep(100);
    }
    runs.get('s2')!.child.kill('SIGKILL');
    ghost.child.kill('SIGKILL');
    const killed = await runs.get('s2')!.result;
    assert.equal(killed.signal, 'SIGKILL');
    await ghost.result;
    runs.set('s2', startCli(sensorArgs(dir, 's2', SENSORS[1][1])));

    // PostgreSQL away for three seconds while all three replay
    await sleep(1500);
    pg.stop();
    await sleep(3000);
    pg.start();

    const results = new Map<string, CliResult>();
    for (const [name, run] of runs) results.set(name, await run.result);
    for (const [name, r] of results) assert.equal(r.code, 0, `${name}: ${r.stderr}`);

    for (const [name] of SENSORS) {
      const r = results.get(name)!;
      // each says it lost the server and got it back, and its summary counts the outage
      assert.match(
        r.stderr,
        /spymate-tui: warning: postgres:\/\/spymate@127\.0\.0\.1:\d+\/spymate unreachable \(.*\): capturing on, queueing records/,
      );
      assert.match(r.stderr, /is back after \d+\.\d s: delivering \d+ queued window records/);
      const summary = JSON.parse(r.stdout.trim().split('\n').pop() as string) as {
        event: string;
        sensor: string;
        store: { delivered: number; dropped: number; queued: number; outages: number };
      };
      assert.equal(summary.event, 'summary');
      assert.equal(summary.sensor, name);
      assert.ok(summary.store.outages >= 1, `${name}: ${JSON.stringify(summary)}`);
      assert.equal(summary.store.dropped + summary.store.queued, 0);

      const written = ndjsonWindows(path.join(dir, `${name}.ndjson`));
      const inDb = await rows<{ flow_id: string; start: number; n: number }>(
        'SELECT flow_id, start, count(*)::int AS n FROM windows WHERE sensor = $1 GROUP BY flow_id, start',
        [name],
      );
      assert.ok(written.size > 200, `${name} wrote ${written.size} windows`);
      assert.deepEqual(
        new Set(inDb.map((w) => `${w.flow_id} ${w.start}`)),
        written,
        `${name}: the stored windows are the written ones`,
      );
      assert.ok(inDb.every((w) => w.n === 1));
      const [flow] = await rows<{ ended: boolean; windows: number }>(
        'SELECT ended, windows FROM flows WHERE sensor = $1',
        [name],
      );
      assert.equal(flow.ended, true);
    }
    // the restarted sensor saw its own unfinished row, and said what it means
    assert.match(results.get('s2')!.stderr, /sensor 's2' reported \d+ s ago and did not stop/);

    if (!hasTmux()) return;
    const term = new Tmux();
    try {
      term.run([process.execPath, BIN, '--store', pg.url], { width: 160, height: 30 });
      const screen = await term.waitFor(
        (s) =>
          /QUIET/.test(s) &&
          ['s1', 's2', 's3'].every((n) => new RegExp(`webrtc.*\\b${n}\\b|\\b${n}\\b.*webrtc`).test(s)),
        30_000,
      );
      const lines = screen.split('\n');
      const table = lines.filter((l) => /\bwebrtc\b/.test(l) && !l.startsWith('--'));
      // one call per sensor, the ghost's too; each row names its sensor
      assert.equal(table.length, 4, screen);
      for (const n of ['s1', 's2', 's3', 'ghost'])
        assert.ok(
          table.some((l) => new RegExp(`\\b${n}\\b`).test(l)),
          `${n}: ${screen}`,
        );
      const status = lines.find((l) => /QUIET/.test(l)) as string;
      assert.match(status, /ghost QUIET \d+s/);
      assert.match(status, /s1 stopped \d\d:\d\d:\d\d/);
      // the filter takes sensor names: the dialog (Tools > Filter) with s2 leaves s2's call alone
      term.type('f');
      await term.waitFor(/Add/);
      term.type('s2');
      term.keys('Enter');
      term.keys('Escape');
      const filtered = await term.waitFor(/filter s2 \(1\/4\)/);
      assert.deepEqual(
        filtered
          .split('\n')
          .filter((l) => /\bwebrtc\b/.test(l) && !l.startsWith('--'))
          .map((l) => /\b(s\d|ghost)\b/.exec(l)?.[1]),
        ['s2'],
      );
    } finally {
      term.kill();
    }
  },
);

test(
  'a live sensor (-i on a veth in a netns, root dropped to the invoking user) stores its call over the server socket, and reconnects as that user',
  { skip: skip || (canMakeNetns() ?? false), timeout: 120_000 },
  async () => {
    const pair = createVethPair('mh', 17);
    try {
      const dir = tempDir('many-live');
      // the namespace has a loopback of its own: the sensor reaches the server by its Unix socket,
      // whose directory the dropped user may pass through (a reconnection happens as that user)
      fs.chmodSync(pg.dir, 0o711);
      const url = `postgres://spymate@${encodeURIComponent(pg.dir)}:${pg.port}/spymate`;
      const out = path.join(dir, 'live.ndjson');
      const run = startCli(
        ['-i', pair.ifA, '--headless', '--bpf', 'udp', '--timeout', '3', '--store', url, '--out', out],
        {
          wrap: ['ip', 'netns', 'exec', pair.nsA],
          env: { SUDO_UID: '4321', SUDO_GID: '4321' },
        },
      );
      // the drop comes once the device is open and the store connected: capture has begun
      const uid = (): number =>
        Number(/^Uid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${run.child.pid}/status`, 'utf8'))?.[1]);
      const deadline = Date.now() + 15_000;
      while (uid() !== 4321) {
        assert.ok(Date.now() < deadline, `root was not dropped: ${run.output().stderr}`);
        await sleep(50);
      }
      const gen = (ns: string, fromA: boolean): Promise<number | null> => {
        const spec = { a: pair.ipA, b: pair.ipB, aPort: 50000, bPort: 40000, seconds: 8, fromA };
        const c = spawn(
          'ip',
          ['netns', 'exec', ns, process.execPath, path.join(__dirname, 'call-generator.js'), JSON.stringify(spec)],
          {
            stdio: 'ignore',
          },
        );
        return new Promise((r) => c.on('close', r));
      };
      const traffic = Promise.all([gen(pair.nsA, true), gen(pair.nsB, false)]);
      // the server restarts mid-call: the sensor, no longer root, connects again
      await sleep(3000);
      pg.stop();
      await sleep(1500);
      pg.start();
      assert.deepEqual(await traffic, [0, 0]);
      await sleep(1500);
      run.child.kill('SIGTERM');
      const r = await run.result;
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /is back after \d+\.\d s/);
      const sensor = (await import('node:os')).hostname();
      const written = ndjsonWindows(out);
      assert.ok(written.size >= 12, `windows: ${written.size}`);
      const stored = await rows<{ flow_id: string; start: number }>(
        'SELECT flow_id, start FROM windows WHERE sensor = $1',
        [sensor],
      );
      assert.deepEqual(new Set(stored.map((w) => `${w.flow_id} ${w.start}`)), written);
      const [s] = await rows<{ source: string; state: string }>('SELECT source, state FROM sensors WHERE sensor = $1', [
        sensor,
      ]);
      assert.deepEqual(s, { source: `iface:${pair.ifA}`, state: 'stopped' });
    } finally {
      pair.destroy();
    }
  },
);

test('misused many-hosts options are one line and exit 2, before anything starts', async () => {
  const trace = path.join(CALLS, SENSORS[0][1]);
  const cases: Array<[string[], RegExp]> = [
    [
      ['-f', trace, '--headless', '--sensor', 'x'],
      /--sensor applies to a sensor: give a source .* and --store postgres:\/\/\.\.\./,
    ],
    [
      ['-f', trace, '--headless', '--store', 'mysql://h/db'],
      /--store: 'mysql:\/\/h\/db' is not a postgres:\/\/USER@HOST:PORT\/DB URL/,
    ],
    [
      ['-f', trace, '--headless', '--store', 'postgres://u@h/db', '--db', 'x.db'],
      /--db \(SQLite\) and --store \(PostgreSQL\) exclude each other/,
    ],
    [
      ['-f', trace, '--headless', '--store', 'postgres://u@h/db', '--sensor', 'a b'],
      /--sensor 'a b': use letters, digits/,
    ],
    [
      ['--store', 'postgres://u@h/db', '--headless'],
      /the view over --store is a terminal UI: --headless needs a source/,
    ],
    [
      ['-f', trace, '--headless', '--ipfix', 'udp://h'],
      /--ipfix: 'udp:\/\/h' is not udp:\/\/HOST:PORT or tcp:\/\/HOST:PORT/,
    ],
    [['-f', trace, '--headless', '--ipfix-interval', '5'], /--ipfix-interval applies to --ipfix only/],
    [['-f', trace, '--headless', '--store', 'postgres://u@h/db?sslmode=maybe'], /--store: unknown sslmode 'maybe'/],
  ];
  for (const [args, want] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, want);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a sensor whose --out cannot be opened stops at once with one line, its connection closed', { skip }, async () => {
  const dir = tempDir('many-bad');
  const t0 = Date.now();
  const r = await runCli(
    [
      '-f',
      path.join(CALLS, SENSORS[0][1]),
      '--headless',
      '--store',
      pg.url,
      '--sensor',
      'bad',
      '--out',
      path.join(dir, 'no', 'such', 'dir', 'x.ndjson'),
    ],
    { timeoutMs: 20_000 },
  );
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /x\.ndjson: no such file or directory/);
  assert.ok(Date.now() - t0 < 10_000, 'it did not hang on its open connection');
});
