/**
 * Tiny anti-aliased rasteriser on float YUV 4:2:0 planes: shapes are signed-distance
 * functions (pixels, negative inside), so edges blend over one pixel like a real camera's
 * optics instead of stair-stepping (hard edges would cost the encoder unrealistic bits).
 */
export interface Planes {
  w: number;
  h: number;
  y: Float32Array;
  /** Chroma planes at half resolution (w/2 × h/2). */
  u: Float32Array;
  v: Float32Array;
}

export type Yuv = readonly [number, number, number];
export type Sdf = (x: number, y: number) => number;
/** Luma offset at a point (texture, shading); chroma is flat per shape. */
export type Shade = (x: number, y: number) => number;

export function newPlanes(w: number, h: number): Planes {
  return {
    w,
    h,
    y: new Float32Array(w * h),
    u: new Float32Array((w / 2) * (h / 2)),
    v: new Float32Array((w / 2) * (h / 2)),
  };
}

export function copyPlanes(from: Planes, to: Planes): void {
  to.y.set(from.y);
  to.u.set(from.u);
  to.v.set(from.v);
}

/** sRGB-ish 0..255 to BT.601 limited-range YUV (what a webcam driver hands over). */
export function rgb(r: number, g: number, b: number): Yuv {
  const y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255;
  const u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255;
  const v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255;
  return [y, u, v];
}

export function ellipse(cx: number, cy: number, a: number, b: number, rot = 0): Sdf {
  const c = Math.cos(rot),
    s = Math.sin(rot);
  return (x, y) => {
    const dx = x - cx,
      dy = y - cy;
    const lx = (dx * c + dy * s) / a,
      ly = (-dx * s + dy * c) / b;
    const k = Math.sqrt(lx * lx + ly * ly);
    if (k < 1e-6) return -Math.min(a, b);
    const g = Math.sqrt((lx / a) * (lx / a) + (ly / b) * (ly / b)) / k;
    return (k - 1) / g;
  };
}

export function capsule(ax: number, ay: number, bx: number, by: number, r: number): Sdf {
  const vx = bx - ax,
    vy = by - ay;
  const len2 = vx * vx + vy * vy || 1;
  return (x, y) => {
    const t = Math.max(0, Math.min(1, ((x - ax) * vx + (y - ay) * vy) / len2));
    const dx = x - ax - t * vx,
      dy = y - ay - t * vy;
    return Math.sqrt(dx * dx + dy * dy) - r;
  };
}

export function box(x0: number, y0: number, x1: number, y1: number, radius = 0): Sdf {
  const cx = (x0 + x1) / 2,
    cy = (y0 + y1) / 2;
  const hx = (x1 - x0) / 2 - radius,
    hy = (y1 - y0) / 2 - radius;
  return (x, y) => {
    const qx = Math.abs(x - cx) - hx,
      qy = Math.abs(y - cy) - hy;
    const ox = Math.max(qx, 0),
      oy = Math.max(qy, 0);
    return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(qx, qy), 0) - radius;
  };
}

/** Bounding box [x0, y0, x1, y1] in pixels. */
export type Bounds = readonly [number, number, number, number];

/**
 * Paints `color` (plus `shade` on luma) where `sdf` < 0 inside `bounds`, with one pixel of
 * coverage blending; `alpha` < 1 makes translucent shapes (glass, shadows).
 */
export function fill(p: Planes, bounds: Bounds, sdf: Sdf, color: Yuv, shade?: Shade, alpha = 1): void {
  const x0 = Math.max(0, Math.floor(bounds[0]) - 1),
    x1 = Math.min(p.w, Math.ceil(bounds[2]) + 1);
  const y0 = Math.max(0, Math.floor(bounds[1]) - 1),
    y1 = Math.min(p.h, Math.ceil(bounds[3]) + 1);
  for (let j = y0; j < y1; j++) {
    const row = j * p.w;
    for (let i = x0; i < x1; i++) {
      const d = sdf(i + 0.5, j + 0.5);
      if (d >= 0.5) continue;
      const c = (d <= -0.5 ? 1 : 0.5 - d) * alpha;
      const target = color[0] + (shade ? shade(i + 0.5, j + 0.5) : 0);
      p.y[row + i] += (target - p.y[row + i]) * c;
    }
  }
  const cw = p.w / 2;
  for (let j = y0 >> 1; j < (y1 + 1) >> 1; j++) {
    for (let i = x0 >> 1; i < (x1 + 1) >> 1 && i < cw; i++) {
      const d = sdf(2 * i + 1, 2 * j + 1) / 2;
      if (d >= 0.5) continue;
      const c = (d <= -0.5 ? 1 : 0.5 - d) * alpha;
      const k = j * cw + i;
      p.u[k] += (color[1] - p.u[k]) * c;
      p.v[k] += (color[2] - p.v[k]) * c;
    }
  }
}

/** Deterministic hash noise in [0, 1) for integer lattice points (textures, not randomness). */
export function hash2(x: number, y: number, seed: number): number {
  let h = Math.imul(x | 0, 374761393) ^ Math.imul(y | 0, 668265263) ^ Math.imul(seed | 0, 1274126177);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in [0, 1) with feature size `scale` pixels. */
export function vnoise(x: number, y: number, scale: number, seed: number): number {
  const fx = x / scale,
    fy = y / scale;
  const ix = Math.floor(fx),
    iy = Math.floor(fy);
  const tx = fx - ix,
    ty = fy - iy;
  const sx = tx * tx * (3 - 2 * tx),
    sy = ty * ty * (3 - 2 * ty);
  const a = hash2(ix, iy, seed),
    b = hash2(ix + 1, iy, seed);
  const c = hash2(ix, iy + 1, seed),
    d = hash2(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}
