import type { Composite } from './types';

/**
 * Frame regularity, per direction: (1 + mean frame bytes) / (1 + frame-size CV), from the
 * extractor's `<dir>_avg_burst_bytes` and `<dir>_burst_cv` (a burst ≈ one video frame).
 *
 * Why: a person in front of the camera moves the two in opposite-looking ways depending on the
 * encoder's headroom. Below its bitrate cap, frames grow with a person (bytes up). At its cap —
 * sensor noise already fills the budget — bytes stay flat, and the empty room's frame sizes vary
 * *more* than with a person. Each alone flips direction between calls; their ratio rises with a
 * person in both regimes (docs/results.md: within-call AUC 0.89–1.00 in 7 of the 8 lab calls,
 * same direction, where no extracted feature is consistent).
 */
export function compositesFor(features: readonly string[]): Composite[] {
  const out: Composite[] = [];
  for (const f of features) {
    const m = /^(.*)_avg_burst_bytes$/.exec(f);
    if (!m) continue;
    const cv = features.indexOf(`${m[1]}_burst_cv`);
    if (cv >= 0) out.push({ name: `${m[1]}_frame_regularity`, frameBytes: features.indexOf(f), frameCv: cv });
  }
  return out;
}

export function compositeValue(c: Composite, x: Float64Array | readonly number[]): number {
  const b = x[c.frameBytes];
  const v = x[c.frameCv];
  return (1 + (b > 0 ? b : 0)) / (1 + (v > 0 ? v : 0));
}

/** The model's context columns: its input features, then the composites. */
export function columnNames(features: readonly string[], composites: readonly Composite[] = []): string[] {
  return [...features, ...composites.map((c) => c.name)];
}
