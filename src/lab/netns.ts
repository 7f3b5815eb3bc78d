/**
 * The lab network: namespace A (the "local" host, whose traffic tcpdump watches) holds a bridge
 * with A's address; each remote peer gets its own namespace and address, joined to that bridge
 * by a veth pair. One remote per namespace because Chromium gathers one IPv4 address per
 * interface, so two remote peers sharing an interface would share an address too. All
 * addresses are in 10.77.<subnet>.0/24 inside namespaces made here: the lab's traffic never
 * touches the host's interfaces.
 */
import { execFileSync } from 'node:child_process';
import { onCleanup } from './cleanup';
import type { LinkModel } from './relay';

export interface Remote {
  ns: string;
  /** veth end inside nsA (a bridge port) and inside the remote namespace. */
  ifA: string;
  ifR: string;
  ip: string;
}

export interface LabNet {
  nsA: string;
  /** The bridge in nsA: every packet of A with any remote crosses it, so it is captured. */
  bridge: string;
  ipA: string;
  remotes: Remote[];
}

/** Link impairment actually applied (the kernel decides what is possible, see detectNetem). */
export interface Impairment {
  delayMs: number;
  lossPct: number;
  rateKbit: number;
  /** How it was applied: 'netem'; 'relay' (delay/loss, relay.ts) and/or 'tbf' (rate), joined by '+'; or 'none'. */
  method: string;
  note?: string;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function netns(name: string): void {
  ip(['netns', 'add', name]);
  onCleanup(`netns ${name}`, () => ip(['netns', 'del', name]));
  ip(['-n', name, 'link', 'set', 'lo', 'up']);
}

export function createNet(subnet: number, remoteCount: number): LabNet {
  const tag = `${process.pid % 100000}`;
  const nsA = `smlab${tag}a`;
  const bridge = `sml${tag}br`;
  const ipA = `10.77.${subnet}.1`;
  netns(nsA);
  ip(['-n', nsA, 'link', 'add', bridge, 'type', 'bridge']);
  ip(['-n', nsA, 'addr', 'add', `${ipA}/24`, 'dev', bridge]);
  ip(['-n', nsA, 'link', 'set', bridge, 'up']);
  const remotes: Remote[] = [];
  for (let i = 0; i < remoteCount; i++) {
    const r: Remote = {
      ns: `smlab${tag}r${i}`,
      ifA: `sml${tag}a${i}`,
      ifR: `sml${tag}r${i}`,
      ip: `10.77.${subnet}.${i + 2}`,
    };
    netns(r.ns);
    // Deleting a namespace destroys the veth end inside it, and with it the pair.
    ip(['-n', nsA, 'link', 'add', r.ifA, 'type', 'veth', 'peer', 'name', r.ifR, 'netns', r.ns]);
    ip(['-n', nsA, 'link', 'set', r.ifA, 'master', bridge]);
    ip(['-n', nsA, 'link', 'set', r.ifA, 'up']);
    ip(['-n', r.ns, 'addr', 'add', `${r.ip}/24`, 'dev', r.ifR]);
    ip(['-n', r.ns, 'link', 'set', r.ifR, 'up']);
    remotes.push(r);
  }
  return { nsA, bridge, ipA, remotes };
}

function tc(ns: string, args: string[]): boolean {
  try {
    execFileSync('tc', ['-n', ns, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    return true;
  } catch {
    return false;
  }
}

/**
 * Impairs both directions of every remote's link. netem (delay/loss) is tried first; many container
 * kernels lack sch_netem, and then a tbf rate limit (which does exist there) is applied here and
 * delay/loss are left to the relay (relayModel) — the returned record, kept in the scenario JSON,
 * says how.
 */
export function impair(net: LabNet, want: { delayMs: number; lossPct: number; rateKbit: number }): Impairment {
  if (!want.delayMs && !want.lossPct && !want.rateKbit) return { ...want, method: 'none' };
  const ends = net.remotes.flatMap((r): Array<[string, string]> => [
    [net.nsA, r.ifA],
    [r.ns, r.ifR],
  ]);
  if (want.delayMs || want.lossPct) {
    // One-way delay is half the asked round trip, so the call sees the asked RTT.
    const netem = ['netem', 'delay', `${want.delayMs / 2}ms`, `${want.delayMs / 20}ms`, 'loss', `${want.lossPct}%`];
    if (want.rateKbit) netem.push('rate', `${want.rateKbit}kbit`);
    if (ends.every(([ns, dev]) => tc(ns, ['qdisc', 'add', 'dev', dev, 'root', ...netem])))
      return { ...want, method: 'netem' };
    for (const [ns, dev] of ends) tc(ns, ['qdisc', 'del', 'dev', dev, 'root']);
  }
  // Without netem, delay and loss come from a UDP relay on each call's path (relay.ts, call.ts).
  const relay = { delayMs: want.delayMs, lossPct: want.lossPct };
  const method = want.delayMs || want.lossPct ? 'relay' : '';
  const note = method
    ? "kernel has no sch_netem: delay/loss applied by a UDP relay in each remote's namespace"
    : undefined;
  if (want.rateKbit) {
    const tbf = ['tbf', 'rate', `${want.rateKbit}kbit`, 'burst', '32kbit', 'latency', '200ms'];
    if (ends.every(([ns, dev]) => tc(ns, ['qdisc', 'add', 'dev', dev, 'root', ...tbf]))) {
      return { ...relay, rateKbit: want.rateKbit, method: method ? `${method}+tbf` : 'tbf', note };
    }
  }
  return { ...relay, rateKbit: 0, method: method || 'none', note: note ?? 'tc failed' };
}

/** The relay's model for one direction: half the round trip, a tenth of that as jitter (as netem is set above). */
export function relayModel(net: Impairment): LinkModel | undefined {
  if (!net.method.startsWith('relay')) return undefined;
  return { oneWayMs: net.delayMs / 2, jitterMs: net.delayMs / 20, loss: net.lossPct / 100 };
}
