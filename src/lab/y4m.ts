/**
 * Writes an uncompressed YUV4MPEG2 (4:2:0) file frame by frame, the format Chromium's
 * --use-file-for-fake-video-capture reads. Synchronous writes keep memory flat: a frame is
 * only a few hundred kB and the files are gigabytes.
 */
import * as fs from 'node:fs';

export class Y4mWriter {
  private readonly fd: number;
  private readonly frameHeader = Buffer.from('FRAME\n');

  constructor(
    file: string,
    readonly width: number,
    readonly height: number,
    fps: number,
  ) {
    if (width % 2 || height % 2) throw new Error(`y4m: 4:2:0 needs even sizes, got ${width}x${height}`);
    this.fd = fs.openSync(file, 'w');
    fs.writeSync(this.fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  }

  /** `frame` holds the Y plane then the U and V planes at half resolution. */
  write(frame: Uint8Array): void {
    fs.writeSync(this.fd, this.frameHeader);
    fs.writeSync(this.fd, frame);
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}
