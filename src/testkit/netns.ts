/**
 * Two network namespaces made by the test, joined by a veth pair: addresses exist only inside
 * them (10.79.<n>.0/24), so nothing reaches the host's interfaces. destroy() removes both.
 */
import { execFileSync } from 'node:child_process';

export interface VethPair {
  nsA: string;
  nsB: string;
  ifA: string;
  ifB: string;
  ipA: string;
  ipB: string;
  destroy(): void;
}

function ip(args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function createVethPair(tag: string, subnet: number): VethPair {
  const id = `${tag}${process.pid % 10000}`;
  const nsA = `sm${id}a`;
  const nsB = `sm${id}b`;
  const ifA = `sm${id}a`.slice(0, 15);
  const ifB = `sm${id}b`.slice(0, 15);
  const destroy = (): void => {
    for (const ns of [nsA, nsB]) {
      try {
        ip(['netns', 'del', ns]);
      } catch {
        /* already gone */
      }
    }
  };
  try {
    ip(['netns', 'add', nsA]);
    ip(['netns', 'add', nsB]);
    ip(['-n', nsA, 'link', 'add', ifA, 'type', 'veth', 'peer', 'name', ifB, 'netns', nsB]);
    const ipA = `10.79.${subnet}.1`;
    const ipB = `10.79.${subnet}.2`;
    ip(['-n', nsA, 'addr', 'add', `${ipA}/24`, 'dev', ifA]);
    ip(['-n', nsB, 'addr', 'add', `${ipB}/24`, 'dev', ifB]);
    for (const [ns, dev] of [
      [nsA, ifA],
      [nsB, ifB],
    ]) {
      ip(['-n', ns, 'link', 'set', dev, 'up']);
      ip(['-n', ns, 'link', 'set', 'lo', 'up']);
    }
    return { nsA, nsB, ifA, ifB, ipA, ipB, destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}

/** Whether this process may create namespaces (root with CAP_SYS_ADMIN): tests skip otherwise. */
export function canMakeNetns(): string | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces, capture)';
  try {
    const probe = `smprobe${process.pid % 10000}`;
    ip(['netns', 'add', probe]);
    ip(['netns', 'del', probe]);
    return null;
  } catch (err) {
    return `cannot create network namespaces here: ${(err as Error).message.split('\n')[0]}`;
  }
}
