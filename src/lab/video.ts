/**
 * Renders a fake-camera y4m: the still room plus temporal sensor noise on every frame, and
 * the person in "person" segments. The noise level matters most: an empty room's bitrate is
 * set almost entirely by it, so recordings vary it as real cameras and lighting do.
 */
import { Person, Figure } from './figure';
import { copyPlanes, newPlanes } from './raster';
import { Rng } from './rng';
import { renderRoom, Scene } from './room';
import { Segment } from './schedule';
import { Y4mWriter } from './y4m';

export interface VideoSpec {
  scene: Scene;
  figure: Figure;
  seed: number;
  /** Scales all person movement; 1 = an ordinary talking person. */
  motion: number;
  /** Sensor noise, standard deviation in luma steps (chroma gets half). */
  noise: number;
  width: number;
  height: number;
  fps: number;
  schedule: Segment[];
  /** Video length; longer than the call, as Chromium rewinds the file at its end. */
  seconds: number;
}

/** Seconds the person takes to sit down into / get up out of the frame. */
const SLIDE = 1.2;

export function renderVideo(file: string, v: VideoSpec): void {
  const room = renderRoom(v.scene, v.width, v.height, v.seed);
  const person = new Person(v.figure, v.width, v.height, v.seed, v.motion, v.seconds);
  const work = newPlanes(v.width, v.height);
  const ySize = v.width * v.height,
    cSize = ySize / 4;
  const out = new Uint8Array(ySize + 2 * cSize);
  // A table of Gaussian samples read at a random offset per frame: per-pixel iid noise
  // without a Box–Muller per pixel per frame.
  const rng = new Rng(v.seed * 13 + 1);
  const table = new Float32Array(1 << 20);
  for (let i = 0; i < table.length; i++) table[i] = rng.gauss();
  const mask = table.length - 1;
  const quantise = (src: Float32Array, dst: number, n: number, sigma: number): void => {
    let k = rng.int(0, mask);
    for (let i = 0; i < n; i++, k = (k + 1) & mask) {
      const x = Math.round(src[i] + table[k] * sigma);
      out[dst + i] = x < 0 ? 0 : x > 255 ? 255 : x;
    }
  };
  const writer = new Y4mWriter(file, v.width, v.height, v.fps);
  try {
    const frames = Math.ceil(v.seconds * v.fps);
    for (let f = 0; f < frames; f++) {
      const t = f / v.fps;
      copyPlanes(room, work);
      const seg = v.schedule.find((s) => t >= s.start && t < s.end);
      if (seg?.label === 'person') person.draw(work, t, Math.min(1, (t - seg.start) / SLIDE, (seg.end - t) / SLIDE));
      quantise(work.y, 0, ySize, v.noise);
      quantise(work.u, ySize, cSize, v.noise / 2);
      quantise(work.v, ySize + cSize, cSize, v.noise / 2);
      writer.write(out);
    }
  } finally {
    writer.close();
  }
}
