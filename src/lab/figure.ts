/**
 * A person-like figure (head with face, hair, neck, torso, arms, hands) that behaves as people
 * on calls do: slow sway and lean, head turns and glances, nods, blinking, talking turns with a
 * moving mouth, and hand gestures that come up into view while talking. All of it is a
 * deterministic function of time and seed; `motion` scales every amplitude.
 */
import { Rng } from './rng';
import { Planes, Sdf, Yuv, capsule, ellipse, fill, rgb, vnoise } from './raster';

export const FIGURES = ['a', 'b', 'c'] as const;
export type Figure = (typeof FIGURES)[number];

interface Look {
  skin: Yuv;
  hair: Yuv;
  shirt: Yuv;
  /** Shirt texture in torso-local coordinates: plain cloth, stripes or checks. */
  pattern: 'plain' | 'stripes' | 'checks';
  longHair: boolean;
  glasses: boolean;
}

function look(figure: Figure, rng: Rng): Look {
  const j = (c: [number, number, number], a: number): Yuv =>
    rgb(...(c.map((v) => Math.max(0, Math.min(255, v + rng.range(-a, a)))) as [number, number, number]));
  if (figure === 'a')
    return {
      skin: j([215, 170, 140], 15),
      hair: j([50, 35, 25], 10),
      shirt: j([50, 80, 150], 30),
      pattern: 'plain',
      longHair: false,
      glasses: false,
    };
  if (figure === 'b')
    return {
      skin: j([235, 195, 170], 10),
      hair: j([120, 70, 35], 25),
      shirt: j([170, 40, 50], 30),
      pattern: 'stripes',
      longHair: true,
      glasses: false,
    };
  return {
    skin: j([150, 105, 80], 15),
    hair: j([170, 170, 165], 15),
    shirt: j([80, 120, 80], 30),
    pattern: 'checks',
    longHair: false,
    glasses: true,
  };
}

/** [start, end] intervals of an alternating on/off process with random durations. */
function phases(rng: Rng, total: number, on: [number, number], off: [number, number]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  let t = rng.range(0, off[1]);
  while (t < total) {
    const d = rng.range(on[0], on[1]);
    out.push([t, t + d]);
    t += d + rng.range(off[0], off[1]);
  }
  return out;
}

/** 0..1 envelope: 1 inside an interval, with `ramp`-second smooth edges. */
function envelope(iv: Array<[number, number]>, t: number, ramp: number): number {
  for (const [a, b] of iv) {
    if (t < a - ramp || t > b + ramp) continue;
    const x = Math.min((t - (a - ramp)) / ramp, (b + ramp - t) / ramp, 1);
    return x * x * (3 - 2 * x);
  }
  return 0;
}

const max = Math.max;

export class Person {
  private readonly look: Look;
  private readonly talk: Array<[number, number]>;
  private readonly gestures: Array<[number, number]>;
  private readonly glances: Array<[number, number]>;
  private readonly blinks: number[] = [];
  private readonly phase: number[];
  private readonly baseX: number;
  private readonly glanceDir: number;
  private readonly enterSide: number;

  constructor(
    figure: Figure,
    private readonly W: number,
    private readonly H: number,
    private readonly seed: number,
    private readonly motion: number,
    total: number,
  ) {
    const rng = new Rng(seed * 31 + 5);
    this.look = look(figure, rng);
    this.talk = phases(rng, total, [2, 9], [1.5, 8]);
    this.gestures = phases(rng, total, [1, 3.5], [3, 14]).filter(
      ([a]) => envelope(this.talk, a, 0.5) > 0 || rng.next() < 0.3,
    );
    this.glances = phases(rng, total, [0.6, 2.5], [5, 20]);
    for (let t = rng.range(0, 4); t < total; t += rng.range(2, 6)) this.blinks.push(t);
    this.phase = Array.from({ length: 8 }, () => rng.range(0, 2 * Math.PI));
    this.baseX = W / 2 + rng.range(-0.08, 0.08) * W;
    this.glanceDir = rng.next() < 0.5 ? -1 : 1;
    this.enterSide = rng.next() < 0.5 ? -1 : 1;
  }

  /**
   * Draws the person at time `t` (seconds into the video). `inFrame` in 0..1 slides them in
   * from the side (sitting down) and out again (leaving), as at the edges of a presence segment.
   */
  draw(p: Planes, t: number, inFrame: number): void {
    const { W, H, motion: m, phase: ph, look: lk } = this;
    const s = (f: number, i: number) => Math.sin(2 * Math.PI * f * t + ph[i]);
    const talking = envelope(this.talk, t, 0.3);
    const ease = inFrame * inFrame * (3 - 2 * inFrame);
    const slide = (1 - ease) * W * 0.75 * this.enterSide;
    const sway = m * H * (0.03 * s(0.11, 0) + 0.015 * s(0.29, 1)) + slide;
    const scale = 1 + m * (0.05 * s(0.05, 2) + 0.015 * s(0.19, 3));
    const bob = m * H * (0.01 * s(0.23, 4) + 0.008 * talking * s(1.3, 5));
    const roll = m * (0.07 * s(0.08, 6) + 0.04 * talking * s(0.7, 7));
    const yaw = m * 0.25 * s(0.06, 1) + this.glanceDir * 0.7 * envelope(this.glances, t, 0.25);

    const tcx = this.baseX + sway,
      tcy = H * 1.06 + bob * 0.5;
    const hx = this.baseX + sway * 1.25 + yaw * H * 0.02,
      hy = H * 0.42 + bob;
    const ha = 0.12 * H * scale,
      hb = 0.155 * H * scale;

    const cloth = (x: number, y: number): number => {
      const lx = x - tcx,
        ly = y - tcy;
      const folds = (vnoise(lx + 1000, ly + 1000, 18 * scale, this.seed) - 0.5) * 30;
      const grain = (vnoise(lx + 1000, ly + 1000, 2, this.seed + 1) - 0.5) * 8;
      const edge = -25 * (lx / (0.3 * H)) ** 2;
      if (lk.pattern === 'stripes') return folds + grain + edge + ((lx + ly * 0.25 + 1000) % 16 < 8 ? 18 : -18);
      if (lk.pattern === 'checks')
        return folds + grain + edge + ((Math.floor((lx + 1000) / 14) + Math.floor((ly + 1000) / 14)) & 1 ? 14 : -14);
      return folds + grain + edge;
    };
    const skinShade =
      (cx: number, cy: number, r: number) =>
      (x: number, y: number): number =>
        -22 * (((x - cx) ** 2 + (y - cy) ** 2) / (r * r)) +
        (vnoise(x - cx + 500, y - cy + 500, 3, this.seed + 2) - 0.5) * 5;

    if (lk.longHair) {
      fill(
        p,
        [hx - ha * 1.5, hy - hb, hx + ha * 1.5, hy + hb * 2],
        ellipse(hx, hy + hb * 0.5, ha * 1.35, hb * 1.45, roll),
        lk.hair,
        (x, y) => (vnoise(x - hx + 800, y - hy, 2.5, this.seed + 3) - 0.5) * 30,
      );
    }
    const tw = 0.34 * H * scale,
      th = 0.4 * H * scale;
    fill(p, [tcx - tw, tcy - th, tcx + tw, tcy + th], ellipse(tcx, tcy, tw, th), lk.shirt, cloth);

    // Arms: hands rest below the frame, and rise into view in front of the chest to gesture.
    const gesture = envelope(this.gestures, t, 0.5) * Math.min(1, m);
    for (const side of [-1, 1]) {
      const shx = tcx + side * tw * 0.82,
        shy = tcy - th * 0.72;
      const wave = m * H * 0.04;
      const handUpX =
        tcx + side * H * (0.1 + 0.04 * s(1.4 + side * 0.3, side > 0 ? 2 : 5)) + (side > 0 ? wave * s(1.7, 3) : 0);
      const handUpY = H * 0.78 + wave * s(1.9, side > 0 ? 4 : 6) - (side > 0 ? H * 0.05 : 0);
      const handX = shx + (handUpX - shx) * gesture,
        handY = H * 1.15 + (handUpY - H * 1.15) * gesture;
      const elX = shx + side * H * 0.06,
        elY = Math.max(handY, shy) + H * 0.12;
      const ar = 0.055 * H * scale;
      const upper: Sdf = capsule(shx, shy, elX, elY, ar);
      const fore: Sdf = capsule(elX, elY, handX, handY, ar * 0.85);
      const armBox = [
        Math.min(shx, elX, handX) - ar,
        Math.min(shy, handY) - ar,
        Math.max(shx, elX, handX) + ar,
        H + ar,
      ] as const;
      fill(p, armBox, (x, y) => Math.min(upper(x, y), fore(x, y)), lk.shirt, cloth);
      if (gesture > 0.05) {
        const hr = 0.04 * H * scale;
        fill(
          p,
          [handX - hr, handY - hr * 1.3, handX + hr, handY + hr * 1.3],
          ellipse(handX, handY, hr, hr * 1.25, side * 0.3),
          lk.skin,
          skinShade(handX, handY, hr * 1.5),
        );
      }
    }

    const neck = capsule(hx, hy + hb * 0.5, tcx, tcy - th * 0.9, 0.055 * H * scale);
    fill(
      p,
      [Math.min(hx, tcx) - ha, hy, Math.max(hx, tcx) + ha, tcy - th * 0.7],
      neck,
      lk.skin,
      skinShade(hx, hy + hb, hb),
    );
    fill(
      p,
      [hx - ha, hy - hb, hx + ha, hy + hb],
      ellipse(hx, hy, ha, hb, roll),
      lk.skin,
      skinShade(hx + yaw * ha * 0.3, hy, hb * 1.1),
    );

    // Face features in head coordinates, shifted sideways by the head's turn and rotated by its roll.
    const cr = Math.cos(roll),
      sr = Math.sin(roll);
    const at = (fx: number, fy: number): [number, number] => {
      const x = (fx + yaw * 0.55) * ha,
        y = fy * hb;
      return [hx + x * cr - y * sr, hy + x * sr + y * cr];
    };
    const hairTop = ellipse(hx, hy - hb * 0.25, ha * 1.06, hb * 0.82, roll);
    const hairline = (x: number, y: number) => (y - hy) * cr - (x - hx) * sr + hb * (lk.glasses ? 0.55 : 0.35);
    fill(
      p,
      [hx - ha * 1.1, hy - hb * 1.1, hx + ha * 1.1, hy],
      (x, y) => max(hairTop(x, y), hairline(x, y)),
      lk.hair,
      (x, y) => (vnoise(x - hx + 900, y - hy, 2, this.seed + 4) - 0.5) * 25,
    );

    const blink = this.blinks.some((b) => t >= b && t < b + 0.13) ? 0.15 : 1;
    const white = rgb(235, 235, 230),
      dark = rgb(35, 25, 20);
    for (const side of [-1, 1]) {
      const [ex, ey] = at(side * 0.38, -0.08);
      fill(
        p,
        [ex - ha * 0.2, ey - hb * 0.12, ex + ha * 0.2, ey + hb * 0.12],
        ellipse(ex, ey, ha * 0.17, hb * 0.08 * blink, roll),
        white,
      );
      const [ix, iy] = at(side * 0.38 + yaw * 0.12, -0.08);
      fill(
        p,
        [ix - ha * 0.12, iy - hb * 0.1, ix + ha * 0.12, iy + hb * 0.1],
        ellipse(ix, iy, ha * 0.08, hb * 0.075 * blink),
        dark,
      );
      const [bx0, by0] = at(side * 0.2, -0.25 - 0.03 * talking * max(0, s(0.9, side > 0 ? 1 : 2)));
      const [bx1, by1] = at(side * 0.58, -0.22);
      fill(
        p,
        [Math.min(bx0, bx1) - 4, Math.min(by0, by1) - 4, Math.max(bx0, bx1) + 4, Math.max(by0, by1) + 4],
        capsule(bx0, by0, bx1, by1, hb * 0.028),
        lk.hair,
      );
      if (lk.glasses) {
        const ring = ellipse(ex, ey, ha * 0.3, hb * 0.17, roll);
        fill(
          p,
          [ex - ha * 0.35, ey - hb * 0.22, ex + ha * 0.35, ey + hb * 0.22],
          (x, y) => Math.abs(ring(x, y)) - 1.1,
          rgb(20, 20, 20),
        );
      }
    }
    const [nx, ny] = at(0.05, 0.18);
    fill(
      p,
      [nx - ha * 0.15, ny - hb * 0.12, nx + ha * 0.15, ny + hb * 0.12],
      ellipse(nx, ny, ha * 0.1, hb * 0.09, roll),
      lk.skin,
      () => -18,
    );

    // Speech: syllable-rate mouth opening while talking, a closed mouth otherwise.
    const syllable =
      max(0, Math.sin(2 * Math.PI * 4.2 * t + 2.5 * s(0.9, 0))) * (0.5 + vnoise(t * 40, 0, 3, this.seed));
    const open = talking * syllable;
    const [mx, my] = at(0, 0.5);
    fill(
      p,
      [mx - ha * 0.4, my - hb * 0.2, mx + ha * 0.4, my + hb * 0.25],
      ellipse(mx, my, ha * (0.3 - 0.06 * open), hb * (0.035 + 0.13 * open), roll),
      rgb(120, 45, 45),
      (_x, y) => (open > 0.2 && Math.abs(y - my) < hb * 0.09 * open ? -45 : 0),
    );
  }
}
