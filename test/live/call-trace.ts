/** Call-shaped traces for the replay tests, made with the capture engineer's trace writer. */
import { writePcap, type TracePacket } from '../../src/testkit/trace-writer';
import { syntheticCall } from '../../src/testkit/synthetic';

export const T0 = 1_700_000_000;

/** A person on camera for the first half of the call, then only the room. */
export const personFirstHalf = (seconds: number) => (t: number) => t < seconds / 2;

/**
 * Two calls: A (10.0.0.1 ↔ 192.0.2.10) stops after `aSeconds`, B (10.0.0.1 ↔ 192.0.2.20) goes on
 * to `seconds`, so packet time moves past A's end (media stop / timeout on replay).
 */
export function twoCalls(seconds: number, aSeconds: number): TracePacket[] {
  const a = syntheticCall({
    a: '10.0.0.1',
    b: '192.0.2.10',
    aPort: 50000,
    bPort: 40000,
    start: T0,
    seconds: aSeconds,
    person: personFirstHalf(aSeconds),
  });
  const b = syntheticCall({
    a: '10.0.0.1',
    b: '192.0.2.20',
    aPort: 50002,
    bPort: 40002,
    start: T0 + 0.2,
    seconds,
    person: personFirstHalf(seconds),
  });
  return [...a, ...b].sort((x, y) => x.ts - y.ts);
}

export function writeTwoCalls(file: string, seconds = 20, aSeconds = 8): string {
  writePcap(file, twoCalls(seconds, aSeconds));
  return file;
}
