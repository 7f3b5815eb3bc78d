import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TuiOptions } from '../tui/app';

/**
 * A real terminal for the TUI tests: a private tmux server (its own socket, killed at the end)
 * running the test entry at a fixed size. Screens are read with capture-pane and polled with a
 * deadline, never with fixed long sleeps.
 */

let serial = 0;

const ENTRY = path.resolve(__dirname, 'run-tui.js');

export class Tmux {
  readonly socket = `spymate-tui-test-${process.pid}-${++serial}`;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-tmux-'));

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', timeout: 5000 });
  }

  /** Starts the test entry on `opts`; after it exits the pane stays, showing its last words and exit status. */
  start(opts: TuiOptions, size: { width: number; height: number }, env: Record<string, string> = {}): void {
    const optsFile = path.join(this.dir, 'opts.json');
    fs.writeFileSync(optsFile, JSON.stringify(opts));
    this.run([process.execPath, ENTRY, optsFile], size, env);
  }

  /** Runs any command line in the terminal, UTF-8 and UTC, NO_COLOR absent unless `env` sets it; in `cwd` if given. */
  run(argv: string[], size: { width: number; height: number }, env: Record<string, string> = {}, cwd?: string): void {
    const vars = { LANG: 'C.UTF-8', TZ: 'UTC', ...env };
    const assigns = Object.entries(vars)
      .map(([k, v]) => `${k}=${quote(v)}`)
      .join(' ');
    const cmd = `env -u NO_COLOR ${assigns} ${argv.map(quote).join(' ')}; echo "EXIT=$?"; sleep 30`;
    const at = cwd === undefined ? [] : ['-c', cwd];
    this.tmux('-f', '/dev/null', 'new-session', '-d', ...at, '-x', String(size.width), '-y', String(size.height), cmd);
  }

  /** Named keys as tmux knows them: 'Enter', 'Escape', 'Down', 'C-c', ... */
  keys(...keys: string[]): void {
    this.tmux('send-keys', ...keys);
  }

  /** Text typed as is. */
  type(text: string): void {
    this.tmux('send-keys', '-l', text);
  }

  /** A left click at screen cell (x, y), 0-based, as an SGR mouse report. */
  click(x: number, y: number): void {
    this.type(`\x1b[<0;${x + 1};${y + 1}M\x1b[<0;${x + 1};${y + 1}m`);
  }

  lines(escapes = false): string[] {
    return this.tmux('capture-pane', '-p', ...(escapes ? ['-e'] : []))
      .replace(/\n$/, '')
      .split('\n');
  }

  text(): string {
    return this.lines().join('\n');
  }

  display(format: string): string {
    return this.tmux('display-message', '-p', format).trim();
  }

  resize(width: number, height: number): void {
    this.tmux('resize-window', '-x', String(width), '-y', String(height));
  }

  /** Polls the screen until `pred` holds; fails with the last screen after `ms`. */
  async waitFor(pred: RegExp | ((screen: string) => boolean), ms = 10000): Promise<string> {
    const test = typeof pred === 'function' ? pred : (s: string) => pred.test(s);
    const deadline = Date.now() + ms;
    let screen = '';
    for (;;) {
      screen = this.text();
      if (test(screen)) return screen;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(pred)}; the screen was:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Holds for `ms`: for what must NOT happen (a paused table must stay as it was). */
  async holds(pred: (screen: string) => boolean, ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const screen = this.text();
      if (!pred(screen)) throw new Error(`the screen changed:\n${screen}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** PID of the program in the pane (the child of the pane's shell). */
  programPid(): number {
    const pane = this.display('#{pane_pid}');
    return Number(execFileSync('pgrep', ['-P', pane], { encoding: 'utf8' }).trim().split('\n')[0]);
  }

  /** Ends the server and removes its socket file (tmux leaves it behind). */
  kill(): void {
    try {
      const socket = this.display('#{socket_path}');
      this.tmux('kill-server');
      fs.rmSync(socket, { force: true });
    } catch {
      /* already gone */
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

export function hasTmux(): boolean {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
