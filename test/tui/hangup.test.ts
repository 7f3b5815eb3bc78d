/**
 * The terminal going away under the real spymate-tui (tmux kill-session, as a closed ssh does):
 * SIGHUP and EIO end the run as q does. Every classified record is flushed, the open call is ended
 * (its end record written, ended=1 in the database), the exit is 0 with no stack trace and no
 * native assertion. Run through sudo (as `nobody`) when root: the UI's read-only database
 * connection works after the drop.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { hasTmux, Tmux } from '../../src/testkit/tmux';
import { projectRoot } from '../../src/rules/paths';
import { cliEnv } from '../../src/testkit/spymate-cli';
import { tempDir } from '../../src/testkit/temp';
import { NOBODY, SUDO_ENV, whyNotAsNobody } from '../../src/testkit/sudo-user';
import { ndjsonRecords, readDb, waitFor } from '../live/run-cli';

const ROOT = projectRoot();
const TRACE = path.join(ROOT, 'test/fixtures/calls/office-vp8.pcapng.gz');
const BIN = path.join(ROOT, 'dist/src/cli/spymate-tui.js');
const skip = !hasTmux()
  ? 'tmux not installed'
  : !fs.existsSync(TRACE)
    ? 'no recorded call in test/fixtures/calls'
    : false;

/**
 * spymate-tui in a tmux pane, through a wrapper that ignores the hangup itself and records the
 * program's exit and its stderr (the terminal is gone by then).
 */
function startInTmux(term: Tmux, args: (dir: string) => string[]): { dir: string; err: string; exit: string } {
  // not in term.dir: killing the terminal removes that
  const top = tempDir('hangup');
  fs.chmodSync(top, 0o755);
  const dir = path.join(top, 'files');
  fs.mkdirSync(dir);
  // as the sudo user `nobody` when root and it can read the program
  const sudo = whyNotAsNobody(BIN) === false;
  if (sudo) fs.chownSync(dir, NOBODY, NOBODY);
  const err = path.join(top, 'stderr');
  const exit = path.join(top, 'exit.json');
  const env = cliEnv(sudo ? SUDO_ENV : {});
  const wrapper =
    `const {spawn}=require('child_process');const fs=require('fs');process.on('SIGHUP',()=>{});` +
    `const c=spawn(process.execPath,${JSON.stringify([BIN, ...args(dir)])},{stdio:['inherit','inherit',fs.openSync(${JSON.stringify(err)},'w')],env:${JSON.stringify(env)}});` +
    `c.on('exit',(code,signal)=>fs.writeFileSync(${JSON.stringify(exit)},JSON.stringify({code,signal})));`;
  term.run([process.execPath, '-e', wrapper], { width: 100, height: 24 });
  return { dir, err, exit };
}

function flushed(dir: string): void {
  const d = readDb(path.join(dir, 'x.db'));
  assert.ok(d.flows.length >= 1, 'the call is in the database');
  for (const f of d.flows) assert.equal(f.ended, 1, `flow ${String(f.flow_id)} ended`);
  const recs = ndjsonRecords(fs.readFileSync(path.join(dir, 'x.ndjson'), 'utf8'));
  assert.ok(
    recs.some((r) => r.event === 'end' && r.flowID === d.flows[0].flow_id),
    'the end record of the open call was written',
  );
  assert.equal(recs.filter((r) => r.event === 'window').length, d.windows.length, 'every classified window stored');
  assert.equal(recs[recs.length - 1].event, 'summary');
}

const replay = (speed: string) => (dir: string) => [
  '-f',
  TRACE,
  '--speed',
  speed,
  '--refresh',
  '0.2',
  '--db',
  path.join(dir, 'x.db'),
  '--out',
  path.join(dir, 'x.ndjson'),
];

async function exitOf(file: string): Promise<{ code: number | null; signal: string | null }> {
  assert.ok(await waitFor(() => fs.existsSync(file), 20_000), 'the program did not end');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as { code: number | null; signal: string | null };
}

function clean(stderr: string): void {
  assert.doesNotMatch(stderr, /\n\s+at |Assertion failed|Unhandled|EIO/, stderr);
}

test(
  'tmux kill-session: the run ends as with q, records flushed, the call ended, exit 0, no stack trace',
  { skip },
  async (t) => {
    const term = new Tmux();
    t.after(() => term.kill());
    const run = startInTmux(term, replay('1'));
    // a row on screen: the UI reads the database (as the sudo user, when root)
    await term.waitFor(/[0-9a-f]{16}|webrtc/, 20_000);
    await term.waitFor(/(person|background) .*\d+%/, 20_000);
    term.kill();
    const exit = await exitOf(run.exit);
    const stderr = fs.readFileSync(run.err, 'utf8');
    assert.deepEqual(exit, { code: 0, signal: null }, stderr);
    clean(stderr);
    assert.match(stderr, /^spymate-tui: \d+ packets, 0 dropped, \d+ flows?, 1 call,/m);
    flushed(run.dir);
  },
);

test('SIGHUP, and SIGTERM with the search prompt open, end the run as q does', { skip }, async (t) => {
  for (const [signal, before] of [
    ['SIGHUP', []],
    ['SIGTERM', ['/']],
  ] as const) {
    const term = new Tmux();
    t.after(() => term.kill());
    const run = startInTmux(term, replay('1'));
    await term.waitFor(/(person|background) .*\d+%/, 20_000);
    // typed into the search prompt, a q would not quit
    for (const k of before) term.type(k);
    // the pane runs the wrapper; its child is spymate-tui
    const pid = Number(
      spawnSync('pgrep', ['-P', String(term.programPid())], { encoding: 'utf8' })
        .stdout.trim()
        .split('\n')[0],
    );
    assert.ok(pid > 0, 'no spymate-tui process');
    process.kill(pid, signal);
    const exit = await exitOf(run.exit);
    assert.deepEqual(exit, { code: 0, signal: null }, `${signal}: ${fs.readFileSync(run.err, 'utf8')}`);
    clean(fs.readFileSync(run.err, 'utf8'));
    flushed(run.dir);
    // the terminal is left as it was found
    await term.waitFor(() => term.display('#{alternate_on} #{cursor_flag}') === '0 1', 5000);
  }
});
