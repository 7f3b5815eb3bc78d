/**
 * tcpdump on the capture interface inside namespace A, snaplen 128 (headers and the first
 * payload bytes only: enough for flow metering, little of the encrypted media).
 * tcpdump 4.99 writes classic pcap only, so the file is converted to pcapng with editcap
 * (same packets, same microsecond timestamps) when the capture stops, and optionally cut shorter
 * for storage: the fixtures keep 54 bytes a packet, which quarters their size (the encrypted
 * payload bytes do not compress) and keeps every header byte spymate reads.
 */
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import { onCleanup } from './cleanup';

export interface Capture {
  /** Stops tcpdump, converts to pcapng at `pcapngPath` (packets cut to `storeBytes` if not 0); resolves with the packet count line. */
  stop(): Promise<string>;
}

export async function startCapture(
  netns: string,
  iface: string,
  pcapPath: string,
  pcapngPath: string,
  storeBytes = 0,
): Promise<Capture> {
  let stderr = '';
  const child = spawn('ip', ['netns', 'exec', netns, 'tcpdump', '-i', iface, '-s', '128', '-n', '-U', '-w', pcapPath], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const kill = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGINT'); // SIGINT lets tcpdump flush and print its counts
    await exited;
  };
  onCleanup(`tcpdump (pid ${child.pid})`, kill);
  // tcpdump says "listening on ..." once the socket is open; packets before that are lost.
  const t0 = Date.now();
  while (!/listening on/.test(stderr)) {
    if (child.exitCode !== null) throw new Error(`tcpdump failed: ${stderr.trim()}`);
    if (Date.now() - t0 > 10000) throw new Error('tcpdump did not start within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    async stop() {
      await kill();
      execFileSync('editcap', [
        '-F',
        'pcapng',
        ...(storeBytes ? ['-s', String(storeBytes)] : []),
        pcapPath,
        pcapngPath,
      ]);
      fs.rmSync(pcapPath);
      return (stderr.match(/\d+ packets captured/) ?? [''])[0];
    },
  };
}
