/**
 * Delay and loss where the kernel has no sch_netem (containers often lack it, and with it every
 * qdisc or tc action that could delay or drop): a UDP relay in the remote peer's namespace, on the
 * remote's own address, that the call's media passes through. call.ts rewrites the ICE candidates
 * so that each peer sees the other at the relay — as if behind a NAT on the remote's host — and A's
 * capture shows one flow A ↔ remote, with the delay and loss of a real path.
 *
 *   node relay.js IP ONE_WAY_MS JITTER_MS LOSS SEED   prints "PORT_A PORT_B", then relays until killed
 *
 * PORT_A faces the caller (A), PORT_B the callee; each side's address is learnt from the first
 * packet it sends (ICE checks are retried, so the few before that are simply lost).
 */
import * as dgram from 'node:dgram';
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import { onCleanup } from './cleanup';
import { Rng } from './rng';

/** One direction of the path: netem's `delay D J loss P` (uniform jitter), without reordering. */
export interface LinkModel {
  oneWayMs: number;
  jitterMs: number;
  /** fraction of packets dropped, 0..1 */
  loss: number;
}

/**
 * Holds each packet for its delay and sends it when due, in arrival order (a packet never
 * overtakes the one before it: real paths rarely reorder, and netem with a FIFO does not either).
 */
export class DelayLine {
  private readonly queue: Array<{ due: number; buf: Buffer }> = [];
  private lastDue = 0;
  private timer: NodeJS.Timeout | null = null;
  dropped = 0;
  passed = 0;

  constructor(
    private readonly model: LinkModel,
    private readonly rng: Rng,
    private readonly send: (buf: Buffer) => void,
  ) {}

  push(buf: Buffer): void {
    if (this.rng.next() < this.model.loss) {
      this.dropped++;
      return;
    }
    const jitter = (2 * this.rng.next() - 1) * this.model.jitterMs;
    const due = Math.max(performance.now() + this.model.oneWayMs + jitter, this.lastDue);
    this.lastDue = due;
    this.queue.push({ due, buf });
    if (!this.timer) this.arm();
  }

  private arm(): void {
    this.timer = setTimeout(() => this.flush(), Math.max(0, this.queue[0].due - performance.now()));
  }

  private flush(): void {
    this.timer = null;
    const now = performance.now();
    while (this.queue.length && this.queue[0].due <= now + 0.5) {
      this.passed++;
      this.send(this.queue.shift()!.buf);
    }
    if (this.queue.length) this.arm();
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
  }
}

export interface Relay {
  portA: number;
  portB: number;
  /** A → B and B → A */
  lines: [DelayLine, DelayLine];
  close(): void;
}

/** Binds the relay's two sockets on `ip` and starts relaying (in this process). */
export async function startRelay(ip: string, model: LinkModel, seed: number): Promise<Relay> {
  const rng = new Rng(seed);
  const bind = (): Promise<dgram.Socket> =>
    new Promise((resolve, reject) => {
      const s = dgram.createSocket('udp4');
      s.once('error', reject);
      s.bind(0, ip, () => resolve(s));
    });
  const [sa, sb] = [await bind(), await bind()];
  let peerA: dgram.RemoteInfo | null = null;
  let peerB: dgram.RemoteInfo | null = null;
  const toB = new DelayLine(model, rng, (buf) => {
    if (peerB) sb.send(buf, peerB.port, peerB.address);
  });
  const toA = new DelayLine(model, rng, (buf) => {
    if (peerA) sa.send(buf, peerA.port, peerA.address);
  });
  sa.on('message', (buf, r) => {
    peerA = r;
    toB.push(buf);
  });
  sb.on('message', (buf, r) => {
    peerB = r;
    toA.push(buf);
  });
  return {
    portA: sa.address().port,
    portB: sb.address().port,
    lines: [toB, toA],
    close: () => {
      toB.close();
      toA.close();
      sa.close();
      sb.close();
    },
  };
}

/** Starts the relay as its own process inside `netns` (where the remote's address lives). */
export async function spawnRelay(
  netns: string,
  ip: string,
  model: LinkModel,
  seed: number,
): Promise<{ portA: number; portB: number }> {
  const child = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      __filename,
      ip,
      String(model.oneWayMs),
      String(model.jitterMs),
      String(model.loss),
      String(seed),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  onCleanup(`relay (pid ${child.pid})`, () => {
    if (child.exitCode === null) child.kill('SIGTERM');
  });
  const line = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`relay in ${netns} not ready after 10 s`)), 10_000);
    readline.createInterface({ input: child.stdout! }).once('line', (l) => {
      clearTimeout(t);
      resolve(l);
    });
    child.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`relay in ${netns} exited (${code}) before it was ready`));
    });
  });
  const [portA, portB] = line.split(' ').map(Number);
  return { portA, portB };
}

if (require.main === module) {
  const [ip, oneWay, jitter, loss, seed] = process.argv.slice(2);
  if (!ip || [oneWay, jitter, loss, seed].some((x) => !Number.isFinite(Number(x)))) {
    process.stderr.write('usage: node relay.js IP ONE_WAY_MS JITTER_MS LOSS SEED\n');
    process.exit(2);
  }
  startRelay(ip, { oneWayMs: Number(oneWay), jitterMs: Number(jitter), loss: Number(loss) }, Number(seed)).then(
    (r) => {
      process.stdout.write(`${r.portA} ${r.portB}\n`);
      process.once('SIGTERM', () => {
        r.close();
        process.exit(0);
      });
    },
    (e: Error) => {
      process.stderr.write(
        `relay: cannot bind on ${ip}: ${e.message} (is that address on an interface of this namespace?)\n`,
      );
      process.exit(1);
    },
  );
}
