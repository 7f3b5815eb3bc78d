import type { LogRegParams } from './types';

/**
 * L2-regularised logistic regression, fitted by L-BFGS on the mean weighted log-loss
 * + l2/2·|w|² (bias not penalised). X rows are already standardised.
 */
export function fitLogReg(
  X: Float64Array[],
  y: Uint8Array,
  weights: Float64Array,
  l2: number,
  maxIter = 200,
): LogRegParams {
  const d = X[0]?.length ?? 0;
  const dim = d + 1;
  let wsum = 0;
  for (let i = 0; i < weights.length; i++) wsum += weights[i];
  const lossGrad = (theta: Float64Array, grad: Float64Array): number => {
    grad.fill(0);
    let loss = 0;
    for (let i = 0; i < X.length; i++) {
      const row = X[i];
      let z = theta[d];
      for (let j = 0; j < d; j++) z += theta[j] * row[j];
      const p = 1 / (1 + Math.exp(-z));
      const w = weights[i] / wsum;
      // log(1+e^z) - y z, stable
      loss += w * ((z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - y[i] * z);
      const g = w * (p - y[i]);
      for (let j = 0; j < d; j++) grad[j] += g * row[j];
      grad[d] += g;
    }
    for (let j = 0; j < d; j++) {
      loss += 0.5 * l2 * theta[j] * theta[j];
      grad[j] += l2 * theta[j];
    }
    return loss;
  };
  const theta = lbfgs(dim, lossGrad, maxIter);
  return { kind: 'logreg', l2, weights: Array.from(theta.subarray(0, d)), bias: theta[d] };
}

export function logRegProbability(m: LogRegParams, x: Float64Array): number {
  let z = m.bias;
  const w = m.weights;
  for (let j = 0; j < w.length; j++) z += w[j] * x[j];
  return 1 / (1 + Math.exp(-z));
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Limited-memory BFGS with a backtracking (Armijo) line search; returns the minimiser. */
function lbfgs(
  dim: number,
  f: (x: Float64Array, g: Float64Array) => number,
  maxIter: number,
  memory = 8,
): Float64Array {
  let x = new Float64Array(dim);
  let g = new Float64Array(dim);
  let fx = f(x, g);
  const S: Float64Array[] = [];
  const Y: Float64Array[] = [];
  const dir = new Float64Array(dim);
  const alpha = new Float64Array(memory);
  for (let iter = 0; iter < maxIter; iter++) {
    // two-loop recursion: dir = -H g
    dir.set(g);
    for (let i = S.length - 1; i >= 0; i--) {
      alpha[i] = dot(S[i], dir) / dot(Y[i], S[i]);
      for (let j = 0; j < dim; j++) dir[j] -= alpha[i] * Y[i][j];
    }
    if (S.length > 0) {
      const k = S.length - 1;
      const gamma = dot(S[k], Y[k]) / dot(Y[k], Y[k]);
      for (let j = 0; j < dim; j++) dir[j] *= gamma;
    }
    for (let i = 0; i < S.length; i++) {
      const beta = dot(Y[i], dir) / dot(Y[i], S[i]);
      for (let j = 0; j < dim; j++) dir[j] += S[i][j] * (alpha[i] - beta);
    }
    for (let j = 0; j < dim; j++) dir[j] = -dir[j];
    let slope = dot(g, dir);
    if (slope >= 0) {
      // not a descent direction: restart from steepest descent
      S.length = 0;
      Y.length = 0;
      for (let j = 0; j < dim; j++) dir[j] = -g[j];
      slope = dot(g, dir);
    }
    let step = S.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(g, g))) : 1;
    const xn = new Float64Array(dim);
    const gn = new Float64Array(dim);
    let fn = Infinity;
    for (let ls = 0; ls < 30; ls++) {
      for (let j = 0; j < dim; j++) xn[j] = x[j] + step * dir[j];
      fn = f(xn, gn);
      if (fn <= fx + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    if (!(fn < fx)) break;
    const s = new Float64Array(dim);
    const yv = new Float64Array(dim);
    for (let j = 0; j < dim; j++) {
      s[j] = xn[j] - x[j];
      yv[j] = gn[j] - g[j];
    }
    if (dot(s, yv) > 1e-12) {
      S.push(s);
      Y.push(yv);
      if (S.length > memory) {
        S.shift();
        Y.shift();
      }
    }
    const done = fx - fn < 1e-9 * Math.max(1, Math.abs(fx));
    x = xn;
    g = gn;
    fx = fn;
    if (done || Math.sqrt(dot(g, g)) < 1e-7) break;
  }
  return x;
}
