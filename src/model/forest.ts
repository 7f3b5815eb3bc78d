import type { FlatTree, ForestParams } from './types';
import { mulberry32 } from '../util/rng';

/**
 * Decision trees (CART, gini) and random forests, grown on features pre-binned at training
 * quantiles (histogram split search: O(rows × features) per tree level). ml-cart's exhaustive
 * split search is quadratic in the rows — measured here at 8 s for ONE tree on 2 000 windows —
 * so it cannot train on 50 000 windows; the trees keep its model (binary splits x < t, gini).
 */
export interface TreeOptions {
  maxDepth: number;
  minLeaf: number;
  /** features tried per split (all for CART, ~√d for a forest) */
  featuresPerSplit: number;
}

const MAX_BINS = 32;

interface Binned {
  /** bins[f][i]: bin of row i in feature f */
  bins: Uint8Array[];
  /** edges[f][b]: threshold between bin b and b+1 (x < edge → ≤ b) */
  edges: Float64Array[];
}

function binFeatures(X: Float64Array[], d: number): Binned {
  const n = X.length;
  const bins: Uint8Array[] = [];
  const edges: Float64Array[] = [];
  const col = new Float64Array(n);
  for (let f = 0; f < d; f++) {
    for (let i = 0; i < n; i++) col[i] = X[i][f];
    const sorted = Float64Array.from(col).sort();
    const e: number[] = [];
    for (let b = 1; b < MAX_BINS; b++) {
      const lo = sorted[Math.floor((b * n) / MAX_BINS - 1)];
      const hi = sorted[Math.floor((b * n) / MAX_BINS)];
      const t = (lo + hi) / 2;
      if (hi > lo && (e.length === 0 || t > e[e.length - 1])) e.push(t);
    }
    const ed = Float64Array.from(e);
    const bf = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      let lo = 0;
      let hi = ed.length;
      const v = col[i];
      while (lo < hi) {
        const m = (lo + hi) >> 1;
        if (v < ed[m]) hi = m;
        else lo = m + 1;
      }
      bf[i] = lo;
    }
    bins.push(bf);
    edges.push(ed);
  }
  return { bins, edges };
}

function growTree(
  B: Binned,
  y: Uint8Array,
  w: Float64Array,
  rows: Uint32Array,
  o: TreeOptions,
  rand: () => number,
): FlatTree {
  const t: FlatTree = { feature: [], threshold: [], left: [], right: [], value: [] };
  const d = B.bins.length;
  const h0 = new Float64Array(MAX_BINS);
  const h1 = new Float64Array(MAX_BINS);
  const order = new Uint32Array(d);
  for (let f = 0; f < d; f++) order[f] = f;
  const grow = (idx: Uint32Array, depth: number): number => {
    const node = t.feature.length;
    let w0 = 0;
    let w1 = 0;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (y[r]) w1 += w[r];
      else w0 += w[r];
    }
    t.feature.push(-1);
    t.threshold.push(0);
    t.left.push(-1);
    t.right.push(-1);
    t.value.push(w0 + w1 > 0 ? w1 / (w0 + w1) : 0.5);
    if (depth >= o.maxDepth || idx.length < 2 * o.minLeaf || w0 === 0 || w1 === 0) return node;
    const tot = w0 + w1;
    const parentGini = 1 - (w0 * w0 + w1 * w1) / (tot * tot);
    let bestGain = 1e-7;
    let bestF = -1;
    let bestB = -1;
    // partial Fisher-Yates: the first featuresPerSplit entries of `order` are this node's candidates
    for (let k = 0; k < o.featuresPerSplit && k < d; k++) {
      const j = k + Math.floor(rand() * (d - k));
      const tmp = order[k];
      order[k] = order[j];
      order[j] = tmp;
      const f = order[k];
      const bf = B.bins[f];
      const nb = B.edges[f].length + 1;
      if (nb < 2) continue;
      h0.fill(0, 0, nb);
      h1.fill(0, 0, nb);
      const cnt = new Uint32Array(nb);
      for (let i = 0; i < idx.length; i++) {
        const r = idx[i];
        const b = bf[r];
        if (y[r]) h1[b] += w[r];
        else h0[b] += w[r];
        cnt[b]++;
      }
      let l0 = 0;
      let l1 = 0;
      let ln = 0;
      for (let b = 0; b < nb - 1; b++) {
        l0 += h0[b];
        l1 += h1[b];
        ln += cnt[b];
        if (ln < o.minLeaf || idx.length - ln < o.minLeaf) continue;
        const lt = l0 + l1;
        const r0 = w0 - l0;
        const r1 = w1 - l1;
        const rt = r0 + r1;
        if (lt <= 0 || rt <= 0) continue;
        const gini = (lt * (1 - (l0 * l0 + l1 * l1) / (lt * lt)) + rt * (1 - (r0 * r0 + r1 * r1) / (rt * rt))) / tot;
        const gain = parentGini - gini;
        if (gain > bestGain) {
          bestGain = gain;
          bestF = f;
          bestB = b;
        }
      }
    }
    if (bestF < 0) return node;
    const bf = B.bins[bestF];
    let nl = 0;
    for (let i = 0; i < idx.length; i++) if (bf[idx[i]] <= bestB) nl++;
    const L = new Uint32Array(nl);
    const R = new Uint32Array(idx.length - nl);
    let a = 0;
    let c = 0;
    for (let i = 0; i < idx.length; i++) {
      const r = idx[i];
      if (bf[r] <= bestB) L[a++] = r;
      else R[c++] = r;
    }
    t.feature[node] = bestF;
    t.threshold[node] = B.edges[bestF][bestB];
    t.left[node] = grow(L, depth + 1);
    t.right[node] = grow(R, depth + 1);
    return node;
  };
  grow(rows, 0);
  return t;
}

export interface ForestOptions extends TreeOptions {
  trees: number;
  seed: number;
  /** bootstrap rows per tree (a forest); false: every row once (a single CART) */
  bootstrap: boolean;
}

export function fitForest(
  X: Float64Array[],
  y: Uint8Array,
  w: Float64Array,
  o: ForestOptions,
  onTree?: (done: number) => void,
): ForestParams {
  const n = X.length;
  const B = binFeatures(X, X[0]?.length ?? 0);
  const rand = mulberry32(o.seed);
  const trees: FlatTree[] = [];
  for (let k = 0; k < o.trees; k++) {
    const rows = new Uint32Array(n);
    for (let i = 0; i < n; i++) rows[i] = o.bootstrap ? Math.floor(rand() * n) : i;
    trees.push(growTree(B, y, w, rows, o, rand));
    onTree?.(k + 1);
  }
  return { kind: 'forest', trees, maxDepth: o.maxDepth, minLeaf: o.minLeaf, featuresPerSplit: o.featuresPerSplit };
}

/** Mean leaf probability over the trees. */
export function forestProbability(m: ForestParams, x: Float64Array): number {
  let s = 0;
  const trees = m.trees;
  for (let k = 0; k < trees.length; k++) {
    const t = trees[k];
    let i = 0;
    while (t.feature[i] >= 0) i = x[t.feature[i]] < t.threshold[i] ? t.left[i] : t.right[i];
    s += t.value[i];
  }
  return s / trees.length;
}
