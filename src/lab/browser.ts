/**
 * One headless Debian Chromium inside a network namespace, driven over a DevTools pipe.
 * The fake camera reads the given y4m; the fake audio device plays Chromium's built-in beep.
 */
import { spawn, ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CdpPipe } from './cdp';
import { onCleanup } from './cleanup';

export const CHROMIUM = '/usr/bin/chromium';

export interface Browser {
  name: string;
  /** Evaluates an expression in the page, awaiting a promise result; returns its JSON value. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  close(): Promise<void>;
}

// Flags from issue 4 (what Chromium needs on this kind of machine), plus: real host IPs in
// candidates instead of mDNS names (the peers cannot resolve each other's .local names), and
// no throttling of the invisible headless page's timers.
function flags(userDataDir: string, y4m: string): string[] {
  return [
    '--headless=new',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    `--user-data-dir=${userDataDir}`,
    '--use-fake-device-for-media-stream',
    '--use-fake-ui-for-media-stream',
    `--use-file-for-fake-video-capture=${y4m}`,
    '--allow-loopback-in-peer-connection',
    '--disable-features=WebRtcHideLocalIpsWithMdns',
    '--autoplay-policy=no-user-gesture-required',
    '--disable-background-timer-throttling',
    '--disable-renderer-backgrounding',
    '--disable-backgrounding-occluded-windows',
    '--remote-debugging-pipe',
    'about:blank',
  ];
}

export async function launch(
  name: string,
  netns: string,
  y4m: string,
  workDir: string,
  pageUrl: string,
): Promise<Browser> {
  const userDataDir = fs.mkdtempSync(path.join(workDir, `profile-${name}-`));
  const log = fs.openSync(path.join(workDir, `chromium-${name}.log`), 'a');
  // detached: the browser and its helpers form one process group we can end by its PID.
  const child: ChildProcess = spawn('ip', ['netns', 'exec', netns, CHROMIUM, ...flags(userDataDir, y4m)], {
    stdio: ['ignore', log, log, 'pipe', 'pipe'],
    detached: true,
  });
  fs.closeSync(log);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      return;
    }
    const t = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }, 3000);
    await exited;
    clearTimeout(t);
  };
  onCleanup(`chromium ${name} (pid ${child.pid})`, kill);

  const cdp = new CdpPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);
  const logStream = fs.createWriteStream(path.join(workDir, `console-${name}.log`));
  cdp.on('event', (method: string, params: any) => {
    if (method === 'Runtime.consoleAPICalled') {
      logStream.write(
        `${new Date().toISOString()} ${params.type} ${params.args.map((a: any) => a.value ?? a.description).join(' ')}\n`,
      );
    } else if (method === 'Runtime.exceptionThrown') {
      logStream.write(`${new Date().toISOString()} EXCEPTION ${JSON.stringify(params.exceptionDetails)}\n`);
    }
  });
  const { targetId } = await cdp.send('Target.createTarget', { url: pageUrl });
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId, flatten: true });
  await cdp.send('Runtime.enable', {}, sessionId);

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = await cdp.send('Runtime.evaluate', { expression, awaitPromise: true, returnByValue: true }, sessionId);
    if (r.exceptionDetails) {
      const d = r.exceptionDetails;
      throw new Error(`${name}: ${d.exception?.description ?? d.text} (evaluating ${expression.slice(0, 60)})`);
    }
    return r.result.value as T;
  };
  return {
    name,
    evaluate,
    close: async () => {
      logStream.end();
      await kill();
    },
  };
}
