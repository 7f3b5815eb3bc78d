/**
 * Seeded mutations for the fuzz tests: bytes of a file (traces, models, labels) and values of a
 * parsed JSON document (models), each a few random edits of a valid input.
 */
import { mulberry32 } from '../util/rng';

export interface Rng {
  /** 0 ≤ x < 1 */
  next(): number;
  /** 0 ≤ k < n */
  int(n: number): number;
  pick<T>(xs: readonly T[]): T;
}

export function rng(seed: number): Rng {
  const next = mulberry32(seed);
  const int = (n: number): number => Math.floor(next() * n);
  return { next, int, pick: (xs) => xs[int(xs.length)] };
}

/**
 * 1..maxEdits edits of `b`: a byte overwritten, a 32-bit word overwritten (hits length fields),
 * the tail cut off, a run of bytes cut out.
 */
export function mutateBytes(b: Buffer, r: Rng, maxEdits = 6): Buffer {
  let out = Buffer.from(b);
  const edits = 1 + r.int(maxEdits);
  for (let e = 0; e < edits; e++) {
    const at = r.int(out.length);
    switch (r.int(4)) {
      case 0:
        out[at] = r.int(256);
        break;
      case 1:
        if (at + 4 <= out.length) out.writeUInt32LE(r.int(2 ** 32), at);
        break;
      case 2:
        out = out.subarray(0, at);
        break;
      default:
        out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1 + r.int(40))]);
    }
  }
  return out;
}

/** Values that break assumptions: out of range, not finite, of the wrong type, hostile text. */
const HOSTILE: readonly unknown[] = [
  -1,
  0,
  0.5,
  1.5,
  1e6,
  1e9,
  -1e308,
  2 ** 31,
  null,
  true,
  'x',
  '',
  '\u001b[2J\u001b]0;title\u0007',
  [],
  {},
  [1, 2, 3],
];

/** Every path to a value (number, string, boolean, null, array, object) inside `v`. */
function paths(v: unknown, at: Array<string | number> = [], out: Array<Array<string | number>> = []) {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

/**
 * 1..maxEdits edits of a copy of `doc`: a value replaced by a hostile one, an array cut short or
 * emptied, an element duplicated, a key removed.
 */
export function mutateJson<T>(doc: T, r: Rng, maxEdits = 3): T {
  const copy = JSON.parse(JSON.stringify(doc)) as unknown;
  const edits = 1 + r.int(maxEdits);
  for (let e = 0; e < edits; e++) {
    const all = paths(copy).filter((p) => p.length > 0);
    if (all.length === 0) break;
    const p = r.pick(all);
    let parent = copy as Record<string | number, unknown>;
    for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = p[p.length - 1];
    const v = parent[key];
    const kind = r.int(4);
    if (kind === 0 && Array.isArray(v)) v.length = r.int(v.length + 1);
    else if (kind === 1 && Array.isArray(v) && v.length > 0) v.push(v[r.int(v.length)]);
    else if (kind === 2 && !Array.isArray(parent)) delete parent[key];
    else parent[key] = r.pick(HOSTILE);
  }
  return copy as T;
}
