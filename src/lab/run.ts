/**
 * `npm run lab -- [options]`: records one labelled WebRTC call (see USAGE in options.ts).
 *
 * Peer A ("local", its bridge is captured) and peer B (and C for a second call) are headless
 * Chromiums, each in its own network namespace; each films its own rendered y4m. The labels follow
 * A's schedule, placed on the packet clock from A's own camera-frame timestamps.
 * Writes NAME.pcapng[.gz], NAME.labels.csv and NAME.json into --out.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { Browser, launch } from './browser';
import { CallDescription, connect, describe, initPeer } from './call';
import { startCapture } from './capture';
import { cleanupAll, onCleanup } from './cleanup';
import { FIGURES } from './figure';
import { createNet, impair, relayModel } from './netns';
import { LabOptions, USAGE, parseOptions } from './options';
import { Rng } from './rng';
import { SCENES } from './room';
import { labelsCsv, parseSchedule, randomSchedule, remoteLabels } from './schedule';
import { startTraffic } from './traffic';
import { VideoSpec, renderVideo } from './video';

/** Extra video after the call: covers set-up time, so Chromium never rewinds the file. */
const VIDEO_PAD_S = 25;
const PAGE_URL = 'file://' + path.join(__dirname, '../../../src/lab/page.html');

function log(msg: string): void {
  process.stderr.write(`lab ${new Date().toISOString().slice(11, 19)} ${msg}\n`);
}

function videoSpecs(o: LabOptions): { a: VideoSpec; b: VideoSpec } {
  const seconds = o.seconds + VIDEO_PAD_S;
  const scheduleA = o.schedule ? parseSchedule(o.schedule) : randomSchedule(o.seed, o.seconds, o.segMin, o.segMax);
  scheduleA[scheduleA.length - 1].end = seconds;
  const a: VideoSpec = {
    scene: o.scene,
    figure: o.figure,
    seed: o.seed,
    motion: o.motion,
    noise: o.noise,
    width: o.width,
    height: o.height,
    fps: o.fps,
    schedule: scheduleA,
    seconds,
  };
  // The remote party: another room, another person, their own comings and goings.
  const rng = new Rng(o.seed + 1000);
  const scheduleB = randomSchedule(o.seed + 1000, o.seconds, o.segMin, o.segMax);
  scheduleB[scheduleB.length - 1].end = seconds;
  const b: VideoSpec = {
    ...a,
    seed: o.seed + 1000,
    schedule: scheduleB,
    scene: SCENES[(SCENES.indexOf(o.scene) + 1) % SCENES.length],
    figure: FIGURES[(FIGURES.indexOf(o.figure) + 1) % FIGURES.length],
    motion: Math.round(rng.range(0.6, 1.4) * 100) / 100,
    noise: Math.round(rng.range(0.8, 2.5) * 100) / 100,
  };
  return { a, b };
}

/**
 * Epoch (s) of video time 0 on peer A: each presented frame reports its capture time and its
 * media time (seconds since the first y4m frame); their difference is that instant.
 */
function videoEpoch(frames: Array<[number, number, number]>): { t0: number; spreadMs: number; frames: number } {
  if (frames.length < 10) throw new Error(`peer A presented only ${frames.length} camera frames; see chromium-a.log`);
  const d = frames.map(([cap, media]) => cap - media * 1000).sort((x, y) => x - y);
  return { t0: d[d.length >> 1] / 1000, spreadMs: d[d.length - 1] - d[0], frames: frames.length };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function record(o: LabOptions): Promise<void> {
  fs.mkdirSync(o.out, { recursive: true });
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'spymate-lab-'));
  onCleanup(`temp dir ${work}`, () => fs.rmSync(work, { recursive: true, force: true }));
  const { a: videoA, b: videoB } = videoSpecs(o);
  const y4mA = path.join(work, 'a.y4m'),
    y4mB = path.join(work, 'b.y4m');
  log(`rendering ${videoA.seconds} s of ${o.width}x${o.height}@${o.fps} for A and B`);
  renderVideo(y4mA, videoA);
  renderVideo(y4mB, videoB);

  const net = createNet(o.subnet, o.calls);
  const network = impair(net, { delayMs: o.delayMs, lossPct: o.lossPct, rateKbit: o.rateKbit });
  if (network.note) log(network.note);
  const base = path.join(o.out, o.name);
  const pcapng = base + '.pcapng';
  const capture = await startCapture(net.nsA, net.bridge, path.join(work, 'raw.pcap'), pcapng, o.storeBytes);
  const captureStart = Date.now() / 1000;

  const a = await launch('a', net.nsA, y4mA, work, PAGE_URL);
  const remotes: Browser[] = [];
  // A second call goes to a third browser with its own namespace and address, filming B's video.
  for (const [i, r] of net.remotes.entries()) remotes.push(await launch('bc'[i], r.ns, y4mB, work, PAGE_URL));
  const format = { width: o.width, height: o.height, fps: o.fps };
  const settings = { a: await initPeer(a, format), remotes: [] as Array<Record<string, number>> };
  for (const r of remotes) settings.remotes.push(await initPeer(r, format));
  const callIds = remotes.map((_, i) => `call${i + 1}`);
  const model = relayModel(network);
  for (const [i, r] of remotes.entries()) {
    await connect({
      id: callIds[i],
      codec: o.codec,
      maxKbps: o.maxKbps,
      caller: { browser: a, ip: net.ipA },
      callee: { browser: r, ip: net.remotes[i].ip },
      relay: model && { netns: net.remotes[i].ns, model, seed: o.seed + i },
    });
    log(`${callIds[i]} connected (${o.codec})`);
  }
  if (o.backgroundTraffic) {
    startTraffic(net.remotes[0].ns, 'serve', net.remotes[0].ip);
    await sleep(500);
    startTraffic(net.nsA, 'client', net.remotes[0].ip, o.seconds);
  }

  const frames: Array<[number, number, number]> = [];
  const takeFrames = async () => {
    frames.push(...(await a.evaluate<Array<[number, number, number]>>('lab.takeFrames()')));
  };
  // The call ends `seconds` after A's video time 0; a few frames must be in to know when that is.
  for (let tries = 0; frames.length < 10 && tries < 50; tries++) {
    await takeFrames();
    await sleep(200);
  }
  const videoT0 = videoEpoch(frames).t0;
  const end = (videoT0 + o.seconds) * 1000;
  // --camera-off: A's camera button, at A's video times (epoch ms); when it really happened (epoch s)
  const switches = o.cameraOff
    ? [
        { at: (videoT0 + o.cameraOff.from) * 1000, on: false },
        { at: (videoT0 + o.cameraOff.to) * 1000, on: true },
      ]
    : [];
  const switched: number[] = [];
  while (Date.now() < end) {
    const next = switched.length < switches.length ? switches[switched.length].at : Infinity;
    await sleep(Math.min(5000, Math.max(0, Math.min(end, next) - Date.now())));
    if (Date.now() >= next) {
      const on = switches[switched.length].on;
      switched.push((await a.evaluate<number>(`lab.camera(${on})`)) / 1000);
      log(`A's camera ${on ? 'on' : 'off'}`);
    }
    await takeFrames();
  }
  const calls: Array<{ id: string; a: CallDescription; remote: CallDescription }> = [];
  for (const [i, r] of remotes.entries())
    calls.push({ id: callIds[i], a: await describe(a, callIds[i]), remote: await describe(r, callIds[i]) });
  const clock = videoEpoch(frames);
  // The remote peers' video clocks too, so their schedules can be placed on the packets.
  const remoteClocks: number[] = [];
  for (const r of remotes)
    remoteClocks.push(videoEpoch(await r.evaluate<Array<[number, number, number]>>('lab.takeFrames()')).t0);
  if (frames[frames.length - 1][1] > videoA.seconds)
    throw new Error("the call outlived peer A's video (Chromium rewound it): raise VIDEO_PAD_S");
  for (const b of [a, ...remotes]) await b.close();
  const packets = await capture.stop();
  const captureEnd = Date.now() / 1000;
  log(`capture: ${packets}`);

  let trace = pcapng;
  if (o.gzip) {
    trace = pcapng + '.gz';
    fs.writeFileSync(trace, zlib.gzipSync(fs.readFileSync(pcapng), { level: 9 }));
    fs.rmSync(pcapng);
  }
  fs.writeFileSync(base + '.labels.csv', labelsCsv(videoA.schedule, clock.t0, captureStart, captureEnd));
  const peer = (v: VideoSpec, ip: string, settingsSeen: Record<string, number>, videoStartEpoch: number) => ({
    ip,
    scene: v.scene,
    figure: v.figure,
    seed: v.seed,
    motion: v.motion,
    noise: v.noise,
    camera: settingsSeen,
    videoStartEpoch,
    schedule: v.schedule.map((s) => ({ ...s, end: Math.min(s.end, o.seconds) })).filter((s) => s.start < o.seconds),
  });
  const scenario = {
    name: o.name,
    trace: path.basename(trace),
    labels: path.basename(base + '.labels.csv'),
    command: `npm run lab -- ${process.argv.slice(2).join(' ')}`,
    recorded: new Date(captureStart * 1000).toISOString(),
    chromium: execFileSync('/usr/bin/chromium', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] })
      .toString()
      .trim(),
    topology:
      "one browser per network namespace; each remote joined by a veth pair to a bridge in A's namespace; capture on that bridge",
    capture: {
      interface: net.bridge,
      snaplen: 128,
      ...(o.storeBytes ? { storedBytes: o.storeBytes } : {}),
      start: captureStart,
      end: captureEnd,
      packets,
    },
    codec: o.codec,
    video: { width: o.width, height: o.height, fps: o.fps },
    maxKbps: o.maxKbps,
    ...(o.cameraOff
      ? { cameraOff: { ...o.cameraOff, offEpoch: switched[0] ?? null, onEpoch: switched[1] ?? null } }
      : {}),
    network,
    localIp: net.ipA,
    labelClock: {
      videoStartEpoch: clock.t0,
      method: 'median of requestVideoFrameCallback captureTime - mediaTime on peer A',
      frames: clock.frames,
      spreadMs: Math.round(clock.spreadMs),
    },
    peers: {
      A: peer(videoA, net.ipA, settings.a, clock.t0),
      ...Object.fromEntries(
        remotes.map((r, i) => [
          r.name.toUpperCase(),
          peer(videoB, net.remotes[i].ip, settings.remotes[i], remoteClocks[i]),
        ]),
      ),
    },
    // The remote end as A sends to it (the callee's host candidate, or the relay's port): page.html
    // describe() reads host candidates, as A's stats blank out peer-reflexive addresses.
    calls: calls.map((c) => ({
      id: c.id,
      protocol: 'udp',
      local: c.a.local,
      remote: c.a.remote,
      sent: c.a.outbound,
      received: c.a.inbound,
    })),
    backgroundTraffic: o.backgroundTraffic
      ? {
          http: `${net.remotes[0].ip}:8080 (paced 4 Mbit/s downloads of 1.5/3 MB every ~20 s)`,
          dns: `${net.remotes[0].ip}:53 (a query every 4 s)`,
        }
      : null,
  };
  fs.writeFileSync(base + '.json', JSON.stringify(scenario, null, 2) + '\n');
  const remote = remoteLabels(scenario);
  for (const r of remote) fs.writeFileSync(path.join(path.dirname(base), r.file), r.csv);
  log(`wrote ${trace}, ${base}.labels.csv, ${base}.json${remote.map((r) => `, ${r.file}`).join('')}`);
}

async function main(): Promise<void> {
  let opts: LabOptions;
  try {
    opts = parseOptions(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`lab: ${(e as Error).message}\n${USAGE}\n`);
    process.exit(2);
  }
  let code = 0;
  try {
    await record(opts);
  } catch (e) {
    log(`failed: ${(e as Error).message}`);
    code = 1;
  }
  await cleanupAll();
  process.exit(code);
}

if (require.main === module) void main();
