/**
 * The still "background" a webcam films when nobody sits in front of it: a textured room
 * (plaster grain, wood grain, book spines, tiles, a window), built once per recording.
 * Scenes differ in layout and palette; the seed moves and recolours things within a scene.
 */
import { Rng } from './rng';
import { Planes, Yuv, box, ellipse, fill, hash2, newPlanes, rgb, vnoise } from './raster';

export const SCENES = ['office', 'living', 'kitchen'] as const;
export type Scene = (typeof SCENES)[number];

type Ctx = { p: Planes; W: number; H: number; rng: Rng; seed: number };

function jitter(rng: Rng, c: readonly [number, number, number], amount: number): Yuv {
  return rgb(...(c.map((v) => Math.max(0, Math.min(255, v + rng.range(-amount, amount)))) as [number, number, number]));
}

/** Wall with plaster grain, soft light falloff from one side and lens vignetting. */
function wall(ctx: Ctx, base: readonly [number, number, number], lightFromLeft: boolean): void {
  const { p, W, H, rng, seed } = ctx;
  const c = jitter(rng, base, 5);
  fill(
    p,
    [0, 0, W, H],
    () => -1e9,
    c,
    (x, y) => {
      const light = (lightFromLeft ? 1 - x / W : x / W) * 14 - 7;
      const vig = -18 * (((x - W / 2) / W) ** 2 + ((y - H / 2) / H) ** 2);
      return light + vig + (vnoise(x, y, 2.2, seed) - 0.5) * 7 + (vnoise(x, y, H / 6, seed + 1) - 0.5) * 8;
    },
  );
}

function woodShade(seed: number, scale: number): (x: number, y: number) => number {
  return (x, y) => (vnoise(x * 0.15, y * 3, scale, seed) - 0.5) * 22 + (hash2(x | 0, y | 0, seed) - 0.5) * 4;
}

function window_(ctx: Ctx, x0: number, y0: number, x1: number, y1: number): void {
  const { p, rng, seed } = ctx;
  const frame = rgb(235, 235, 230);
  fill(p, [x0, y0, x1, y1], box(x0, y0, x1, y1, 2), frame);
  const m = (x1 - x0) * 0.06;
  const sky = jitter(rng, [170, 200, 230], 20);
  // Outside: sky with blurred foliage, as an out-of-focus view through glass.
  fill(p, [x0 + m, y0 + m, x1 - m, y1 - m], box(x0 + m, y0 + m, x1 - m, y1 - m), sky, (x, y) => {
    const leaves = vnoise(x, y, (x1 - x0) / 5, seed + 7);
    return ((y - y0) / (y1 - y0)) * 20 - (leaves > 0.55 ? (leaves - 0.55) * 200 : 0);
  });
  const mx = (x0 + x1) / 2;
  fill(p, [mx - m / 2, y0, mx + m / 2, y1], box(mx - m / 2, y0, mx + m / 2, y1), frame);
}

function bookshelf(ctx: Ctx, x0: number, y0: number, x1: number, y1: number): void {
  const { p, rng, seed } = ctx;
  const wood = jitter(rng, [120, 80, 50], 20);
  fill(p, [x0, y0, x1, y1], box(x0, y0, x1, y1), wood, woodShade(seed + 3, 30));
  const shelves = 4;
  const sh = (y1 - y0) / shelves;
  const bookColors: Array<[number, number, number]> = [
    [150, 30, 30],
    [30, 60, 120],
    [200, 180, 120],
    [40, 100, 60],
    [220, 220, 210],
    [90, 40, 90],
    [20, 20, 20],
    [200, 120, 40],
  ];
  for (let s = 0; s < shelves; s++) {
    const top = y0 + s * sh + sh * 0.12,
      bottom = y0 + (s + 1) * sh - sh * 0.08;
    fill(p, [x0 + 4, top, x1 - 4, bottom], box(x0 + 4, top, x1 - 4, bottom), rgb(40, 28, 20));
    let x = x0 + 6;
    while (x < x1 - 10) {
      const bw = rng.range(0.018, 0.05) * (y1 - y0);
      const bh = (bottom - top) * rng.range(0.65, 0.98);
      if (rng.next() < 0.12) {
        x += bw;
        continue;
      } // a gap, as on real shelves
      const c = jitter(rng, rng.pick(bookColors), 25);
      const bs = seed + Math.floor(x);
      fill(
        p,
        [x, bottom - bh, Math.min(x + bw, x1 - 6), bottom],
        box(x, bottom - bh, Math.min(x + bw, x1 - 6), bottom, 1),
        c,
        (px, py) => (vnoise(px, py, 3, bs) - 0.5) * 10 + (Math.abs(py - (bottom - bh * 0.75)) < 2 ? 25 : 0),
      );
      x += bw + 1;
    }
  }
}

function picture(ctx: Ctx, x0: number, y0: number, x1: number, y1: number): void {
  const { p, rng, seed } = ctx;
  fill(p, [x0, y0, x1, y1], box(x0, y0, x1, y1), rgb(30, 25, 20));
  const m = (x1 - x0) * 0.08;
  const art = jitter(rng, [rng.range(60, 200), rng.range(60, 200), rng.range(60, 200)], 30);
  fill(
    p,
    [x0 + m, y0 + m, x1 - m, y1 - m],
    box(x0 + m, y0 + m, x1 - m, y1 - m),
    art,
    (x, y) => (vnoise(x, y, (x1 - x0) / 4, seed + 11) - 0.5) * 90,
  );
}

function plant(ctx: Ctx, cx: number, base: number, size: number): void {
  const { p, rng, seed } = ctx;
  const pot = jitter(rng, [170, 90, 60], 30);
  fill(
    p,
    [cx - size * 0.3, base - size * 0.4, cx + size * 0.3, base],
    box(cx - size * 0.25, base - size * 0.4, cx + size * 0.25, base, 3),
    pot,
  );
  for (let i = 0; i < 14; i++) {
    const a = rng.range(-1.3, 1.3);
    const len = size * rng.range(0.35, 0.7);
    const lx = cx + Math.sin(a) * len * 0.8,
      ly = base - size * 0.4 - Math.cos(a) * len * 0.8;
    const leaf = jitter(rng, [50, 110, 50], 25);
    fill(
      p,
      [lx - len * 0.5, ly - len * 0.5, lx + len * 0.5, ly + len * 0.5],
      ellipse(lx, ly, len * 0.16, len * 0.42, a),
      leaf,
      (x, y) => (vnoise(x, y, 4, seed + i) - 0.5) * 20,
    );
  }
}

function office(ctx: Ctx): void {
  const { W, H, rng, seed, p } = ctx;
  const left = rng.next() < 0.5;
  wall(
    ctx,
    rng.pick([
      [200, 205, 210],
      [215, 210, 195],
      [190, 200, 190],
    ]),
    !left,
  );
  const shelfX = left ? W * rng.range(0.02, 0.08) : W * rng.range(0.7, 0.76);
  bookshelf(ctx, shelfX, H * 0.08, shelfX + W * 0.24, H * 0.86);
  const winX = left ? W * rng.range(0.66, 0.72) : W * rng.range(0.06, 0.12);
  window_(ctx, winX, H * 0.1, winX + W * 0.22, H * 0.55);
  picture(ctx, W * rng.range(0.38, 0.46), H * 0.12, W * 0.58, H * 0.32);
  // Desk edge across the bottom of the frame.
  fill(
    p,
    [0, H * 0.88, W, H],
    box(-10, H * 0.88, W + 10, H + 10),
    jitter(rng, [150, 110, 75], 25),
    woodShade(seed + 5, 60),
  );
}

function living(ctx: Ctx): void {
  const { W, H, rng, seed, p } = ctx;
  wall(
    ctx,
    rng.pick([
      [225, 205, 175],
      [205, 185, 170],
      [180, 195, 205],
    ]),
    rng.next() < 0.5,
  );
  picture(ctx, W * rng.range(0.1, 0.2), H * 0.1, W * 0.34, H * 0.4);
  picture(ctx, W * 0.62, H * rng.range(0.08, 0.14), W * rng.range(0.78, 0.86), H * 0.36);
  // Sofa back and cushions behind the person.
  const sofa = jitter(rng, [rng.range(60, 140), rng.range(60, 120), rng.range(60, 140)], 20);
  fill(
    p,
    [W * 0.05, H * 0.52, W * 0.95, H],
    box(W * 0.05, H * 0.52, W * 0.95, H + 20, 18),
    sofa,
    (x, y) => (vnoise(x, y, 2.5, seed + 9) - 0.5) * 12 + (vnoise(x, y, 50, seed + 10) - 0.5) * 18,
  );
  for (const cx of [0.18, 0.82]) {
    const c = jitter(rng, [200, 180, 120], 50);
    fill(
      p,
      [W * cx - W * 0.09, H * 0.5, W * cx + W * 0.09, H * 0.8],
      box(W * (cx - 0.08), H * 0.52, W * (cx + 0.08), H * 0.78, 12),
      c,
      (x, y) => ((Math.floor(x / 6) + Math.floor(y / 6)) % 2 ? 8 : -8) + (vnoise(x, y, 2, seed) - 0.5) * 8,
    );
  }
  plant(ctx, W * rng.range(0.88, 0.94), H * 0.55, H * 0.35);
}

function kitchen(ctx: Ctx): void {
  const { W, H, rng, seed, p } = ctx;
  wall(ctx, [235, 235, 228], rng.next() < 0.5);
  // Tiled backsplash: grout lines make a fine, static high-frequency pattern.
  const tile = jitter(rng, [rng.range(150, 240), rng.range(170, 240), rng.range(170, 240)], 15);
  const ts = H * 0.07;
  fill(p, [0, H * 0.3, W, H * 0.8], box(-5, H * 0.3, W + 5, H * 0.8), tile, (x, y) => {
    const gx = x % ts,
      gy = (y - H * 0.3) % ts;
    return (gx < 1.5 || gy < 1.5 ? -45 : 0) + (hash2(Math.floor(x / ts), Math.floor(y / ts), seed) - 0.5) * 10;
  });
  const cab = jitter(rng, [rng.range(90, 230), rng.range(90, 200), rng.range(80, 180)], 15);
  for (let i = 0; i < 4; i++) {
    const x0 = W * (0.02 + i * 0.245);
    fill(
      p,
      [x0, 0, x0 + W * 0.235, H * 0.26],
      box(x0, -10, x0 + W * 0.235, H * 0.26, 3),
      cab,
      (x, y) => (vnoise(x, y, 3, seed + i) - 0.5) * 6,
    );
    fill(
      p,
      [x0 + W * 0.2, H * 0.16, x0 + W * 0.21, H * 0.23],
      box(x0 + W * 0.2, H * 0.16, x0 + W * 0.21, H * 0.23, 2),
      rgb(90, 90, 95),
    );
  }
  window_(ctx, W * rng.range(0.55, 0.65), H * 0.33, W * 0.85, H * 0.68);
  fill(
    p,
    [0, H * 0.8, W, H],
    box(-10, H * 0.8, W + 10, H + 10),
    jitter(rng, [70, 70, 75], 20),
    (x, y) => (vnoise(x, y, 5, seed + 2) - 0.5) * 25,
  );
}

export function renderRoom(scene: Scene, W: number, H: number, seed: number): Planes {
  const p = newPlanes(W, H);
  const ctx: Ctx = { p, W, H, rng: new Rng(seed * 7919 + 17), seed };
  if (scene === 'office') office(ctx);
  else if (scene === 'living') living(ctx);
  else kitchen(ctx);
  return p;
}
