/**
 * Live capture with `cap` (libpcap).
 *
 * `cap` registers its poll handle on libuv's *default* loop, which is the main thread's: opened in
 * a worker thread, the first packet aborts the process ("Cannot create a handle without a
 * HandleScope"). So the capture runs in a small helper process (this file, run as a program)
 * that the meter worker spawns: its event loop does nothing but take packets from cap, stamp them
 * on arrival and write them as a pcap stream to its stdout, every few milliseconds. The meter
 * worker parses that stream. A dedicated loop also keeps the arrival stamps free of the jitter a
 * busy thread (the TUI, the pipeline) would add.
 *
 * cap gives neither the pcap timestamp nor the wire length: ts is the arrival time
 * (performance.now() on an epoch offset calibrated against the wall clock, µs; see epochOffsetMs), and wireLen the captured length — cap sets
 * snaplen 65535, so frames are whole. Only the first LIVE_SNAPLEN bytes go down the pipe: headers
 * and the payload prefix the rules inspect; sizes still come from the full length.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError, usageError } from '../util/errors';
import { newRawPacket } from './decode';
import { PCAP_MAGIC_US } from './pcap-reader';
import { dropPrivileges } from './privileges';
import { LINKTYPE_ETHERNET, LINKTYPE_LINUX_SLL, LINKTYPE_NULL, LINKTYPE_RAW, type RawPacket } from './types';

/** Bytes of each frame passed to the meter: link + IP + transport headers + the inspected payload prefix. */
const LIVE_SNAPLEN = 256;
const DRAIN_QUIET_MS = 50;
/** How long the helper collects packets before writing them down the pipe. */
const FLUSH_MS = 5;
const DRAIN_MAX_MS = 2000;
/** Bytes the helper queues for a meter that fell behind (~470 000 packets, seconds at 100 k/s) before it drops. */
const QUEUE_MAX = 128 << 20;
/** How often the helper sends its drop counts. */
const STATS_MS = 500;

export interface LiveOptions {
  iface: string;
  /** libpcap filter expression, '' for none */
  bpf: string;
  /** libpcap (kernel ring) buffer size in bytes */
  bufferSize: number;
  /** the helper drops to this uid/gid once the device is open; null keeps its rights */
  dropTo: { uid: number; gid: number } | null;
  /** let the CPUs sleep deeply (no PM QoS request): less power, arrival stamps lag by tens of µs */
  powerSave: boolean;
}

export interface LiveHandlers {
  /** `raw.buf` is only valid during the call */
  packet(raw: RawPacket): void;
  /** the capture failed after it started: one line for the user */
  error(err: UserError): void;
}

/**
 * Packets the meter never saw, by where they were lost (pcap_stats' ps_drop and ps_ifdrop, and
 * the helper's own queue).
 */
export interface CaptureDrops {
  /** the kernel's capture ring was full (PACKET_STATISTICS tp_drops); null when it cannot be read */
  kernel: number | null;
  /** dropped by the interface or its driver before capture (rx_dropped since the start) */
  iface: number;
  /** dropped by the helper: its queue to the meter was full (the meter fell seconds behind) */
  queue: number;
}

/** cap's link-type names → LINKTYPE_* numbers. */
function linkTypeNumber(name: string): number | null {
  switch (name) {
    case 'ETHERNET':
      return LINKTYPE_ETHERNET;
    case 'NULL':
      return LINKTYPE_NULL;
    case 'RAW':
      return LINKTYPE_RAW;
    case 'LINKTYPE_LINUX_SLL':
      return LINKTYPE_LINUX_SLL;
    default:
      return null;
  }
}

/** Interfaces that exist, for "no such interface" (the 'any' pseudo-device included). */
function listInterfaces(): string[] {
  try {
    return [...fs.readdirSync('/sys/class/net').sort(), 'any'];
  } catch {
    return ['any'];
  }
}

/** How to get the right to capture, for the one line the user sees. */
const PERMISSION_HINT =
  'run it with sudo, or give node the capture capabilities: sudo setcap cap_net_raw,cap_net_admin=eip $(readlink -f $(which node))';

function noSuchInterface(iface: string): UserError {
  return usageError(`no such interface '${iface}'; interfaces here: ${listInterfaces().join(', ')}`);
}

/** cap's error text as one line with the fix. */
function describeOpenError(iface: string, message: string): UserError {
  if (/permission|not permitted|EPERM|EACCES/i.test(message)) {
    return new UserError(`cannot capture on ${iface}: permission denied; ${PERMISSION_HINT}`);
  }
  if (/no such device|doesn't exist|does not exist/i.test(message)) {
    return noSuchInterface(iface);
  }
  if (/syntax error|parse error|illegal|filter/i.test(message)) {
    return usageError(`--bpf: bad filter expression (${message.trim()}); see man pcap-filter`);
  }
  return new UserError(`cannot capture on ${iface}: ${message.trim()}`);
}

/** Kernel drop counter of the interface, of all of them for 'any' (what /sys exposes; cap has no pcap_stats). */
function interfaceDrops(iface: string): number {
  if (iface === 'any')
    return listInterfaces()
      .filter((i) => i !== 'any')
      .reduce((sum, i) => sum + interfaceDrops(i), 0);
  try {
    return Number(fs.readFileSync(`/sys/class/net/${iface}/statistics/rx_dropped`, 'utf8')) || 0;
  } catch {
    return 0;
  }
}

/**
 * Epoch ms minus performance.now(), to the µs. performance.timeOrigin is read apart from the
 * monotonic clock at process start and can be off the wall clock (the kernel's packet stamps) by
 * a few hundred µs: enough to move packets near a window boundary into the next window. Waiting
 * for Date.now() to tick pins the offset to the moment its millisecond changes.
 */
export function epochOffsetMs(): number {
  let best = Infinity;
  let offset = performance.timeOrigin;
  for (let k = 0; k < 5; k++) {
    const d0 = Date.now();
    let before = performance.now();
    let d = Date.now();
    while (d === d0) {
      before = performance.now();
      d = Date.now();
    }
    const after = performance.now();
    // the tick happened between `before` and `after`: the narrowest bracket wins
    if (after - before < best) {
      best = after - before;
      offset = d - (before + after) / 2;
    }
  }
  return offset;
}

/**
 * Asks the kernel (PM QoS, /dev/cpu_dma_latency) to keep the CPUs out of deep idle states for as
 * long as the helper lives: the request holds while the file stays open, so the descriptor is
 * kept, and it outlives the privilege drop. Waking a CPU from deep idle is what made arrival stamps
 * lag the kernel's by ~55 µs (median; measured against tcpdump on a veth pair), which at a call's
 * ~350 packets/s moved a packet across a window boundary in ~4 % of windows; held awake, the median
 * lag is ~3 µs. The cost is power, hence --power-save. Without root it is simply not done.
 */
function holdCpusAwake(): void {
  try {
    const fd = fs.openSync('/dev/cpu_dma_latency', 'w');
    const zero = Buffer.alloc(4);
    fs.writeSync(fd, zero);
  } catch {
    /* not allowed or not there: stamps lag a little more */
  }
}

/** Helper → worker messages over the IPC channel. */
type HelperMessage =
  | { kind: 'open'; linkType: number }
  | { kind: 'error'; message: string }
  | { kind: 'drops'; kernel: number | null; queue: number };

/**
 * The capture helper process, opened on `opts.iface`. The device is open once `opened` resolves;
 * packets wait (in the kernel ring and the helper's queue) until start() asks for them, so that
 * the privilege drop and the opening of the outputs come between. close() stops the capture:
 * packets already captured are still delivered, then `done` resolves.
 */
export class LiveCapture {
  private readonly child: ChildProcess;
  private pending: Buffer | null = null;
  private linkType = -1;
  private readonly raw: RawPacket = newRawPacket();
  private stderr = '';
  private failed = false;
  private h: LiveHandlers | null = null;
  private readonly baseDrops: number;
  private helperDrops: { kernel: number | null; queue: number } = { kernel: 0, queue: 0 };
  /** resolves with the link type once the device is open; rejects with the one line to show */
  readonly opened: Promise<number>;
  readonly done: Promise<void>;

  constructor(private readonly opts: LiveOptions) {
    if (opts.iface !== 'any' && !fs.existsSync(`/sys/class/net/${opts.iface}`) && fs.existsSync('/sys/class/net')) {
      throw noSuchInterface(opts.iface);
    }
    this.baseDrops = interfaceDrops(opts.iface);
    // stdin is a pipe we never write, not 'ignore': that would open /dev/null, which some sandboxes deny.
    this.child = spawn(process.execPath, [__filename, JSON.stringify(opts)], {
      stdio: ['pipe', 'pipe', 'pipe', 'ipc'],
    });
    this.child.stdout!.pause();
    this.child.stderr!.on('data', (chunk: Buffer) => {
      if (this.stderr.length < 4096) this.stderr += chunk.toString();
    });
    let opened!: (linkType: number) => void;
    let refused!: (err: UserError) => void;
    this.opened = new Promise((resolve, reject) => {
      opened = resolve;
      refused = reject;
    });
    // awaited by the caller; a failure after a successful open is reported through error()
    this.opened.catch(() => undefined);
    this.child.on('message', (m: HelperMessage) => {
      if (m.kind === 'open') opened(m.linkType);
      else if (m.kind === 'drops') this.helperDrops = { kernel: m.kernel, queue: m.queue };
      else {
        const err = describeOpenError(opts.iface, m.message);
        refused(err);
        this.fail(err);
      }
    });
    this.done = new Promise((resolve) => {
      this.child.on('close', (code, signal) => {
        if (code !== 0 && signal !== 'SIGTERM' && !this.failed) {
          // cap aborts on a poll error, which is what an interface being deleted looks like.
          const gone = opts.iface !== 'any' && !fs.existsSync(`/sys/class/net/${opts.iface}`);
          const why = this.stderr
            .split('\n')
            .filter((l) => l && !/^Warning: /.test(l))
            .pop();
          const err = new UserError(
            gone
              ? `capture stopped: interface ${opts.iface} went away`
              : `capture on ${opts.iface} stopped unexpectedly (${why ?? `exit ${code ?? signal}`})`,
          );
          refused(err);
          this.fail(err);
        }
        refused(new UserError(`capture on ${opts.iface} ended before the device was open`));
        resolve();
      });
    });
  }

  /** Delivers the packets, from the first one captured. */
  start(h: LiveHandlers): void {
    this.h = h;
    // paused since the spawn: a 'data' listener alone would not resume it
    this.child.stdout!.on('data', (chunk: Buffer) => this.onData(chunk)).resume();
  }

  private fail(err: UserError): void {
    if (this.failed) return;
    this.failed = true;
    this.h?.error(err);
  }

  /** Packets lost since the start, by cause. */
  drops(): CaptureDrops {
    return { ...this.helperDrops, iface: Math.max(0, interfaceDrops(this.opts.iface) - this.baseDrops) };
  }

  /** Stops capturing; packets already captured are still delivered before `done` resolves. */
  close(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
  }

  private onData(chunk: Buffer): void {
    let b = chunk;
    if (this.pending) {
      b = Buffer.concat([this.pending, chunk]);
      this.pending = null;
    }
    let p = 0;
    if (this.linkType < 0) {
      if (b.length < 24) {
        this.pending = b;
        return;
      }
      this.linkType = b.readUInt32LE(20);
      p = 24;
    }
    const raw = this.raw;
    raw.buf = b;
    raw.linkType = this.linkType;
    const h = this.h!;
    while (p + 16 <= b.length) {
      const capLen = b.readUInt32LE(p + 8);
      if (p + 16 + capLen > b.length) break;
      raw.ts = b.readUInt32LE(p) + b.readUInt32LE(p + 4) / 1e6;
      raw.capLen = capLen;
      raw.wireLen = b.readUInt32LE(p + 12);
      raw.off = p + 16;
      h.packet(raw);
      p += 16 + capLen;
    }
    if (p < b.length) this.pending = b.subarray(p);
  }
}

interface PacketStatsAddon {
  packetStats(fd: number): [number, number] | null;
}

/**
 * The kernel ring's drop count (pcap_stats' ps_drop: PACKET_STATISTICS of cap's packet socket)
 * since the capture opened, through the packet-stats addon (src/capture/native, built by npm
 * install); null without it. The kernel resets its counters on each read: they add up here.
 */
function ringStats(): (() => number) | null {
  let addon: PacketStatsAddon;
  try {
    // from dist/src/capture/ or src/capture/: the addon is built in the source tree
    const up = path.basename(path.resolve(__dirname, '../..')) === 'dist' ? '../../..' : '../..';
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a native addon, found at run time
    addon = require(
      path.resolve(__dirname, up, 'src/capture/native/build/Release/packet_stats.node'),
    ) as PacketStatsAddon;
  } catch {
    return null;
  }
  // cap's socket is the helper's only packet socket: the only one that answers
  for (const name of fs.readdirSync('/proc/self/fd')) {
    const fd = Number(name);
    try {
      if (!fs.readlinkSync(`/proc/self/fd/${name}`).startsWith('socket:') || addon.packetStats(fd) === null) continue;
    } catch {
      continue;
    }
    let drops = 0;
    return () => {
      const st = addon.packetStats(fd);
      if (st) drops += st[1];
      return drops;
    };
  }
  return null;
}

/** The helper process: cap on its own main thread, a pcap stream on stdout. */
function helperMain(opts: LiveOptions): void {
  const send = (m: HelperMessage): void => {
    process.send?.(m);
  };
  // The parent (worker) gone means nobody reads us: stop.
  process.on('disconnect', () => process.exit(0));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Cap } = require('cap') as { Cap: new () => CapHandle };
  const cap = new Cap();
  const frame = Buffer.alloc(65535);
  // Everything the stamps depend on is set up before the device opens (the clock calibration alone
  // takes ~5 ms): packets that arrive between the open and the first poll wait in the ring and are
  // stamped late.
  // Arrival stamps are only as good as this process's scheduling: ask for a head start over
  // ordinary processes (needs root or CAP_SYS_NICE; without it, the default priority).
  try {
    os.setPriority(-10);
  } catch {
    /* not allowed: stamps are then as good as the load permits */
  }
  // Better still, a real-time class: woken at once when packets arrive instead of at the end of
  // another process's time slice (which slipped stamps by milliseconds on a loaded machine). The
  // helper only ever waits on the capture, and the kernel keeps 5 % of each CPU for ordinary
  // processes whatever it does. Node has no call for it: chrt (util-linux), when present and allowed.
  // All its threads (-a), not the main one only: V8's garbage-collector threads left at ordinary
  // priority behind a busy core stalled the real-time main thread that waits for them by 40 ms and
  // more, longer than the kernel ring lasts at 100 k packets/s (its loss went from 2 runs in 10 to 0).
  spawnSync('chrt', ['-a', '-f', '-p', '10', String(process.pid)], { stdio: 'ignore', timeout: 2000 });
  if (!opts.powerSave) holdCpusAwake();
  const epoch = epochOffsetMs();

  const CHUNK = 1 << 20;
  const out = Buffer.allocUnsafe(CHUNK);
  out.writeUInt32LE(PCAP_MAGIC_US, 0);
  out.writeUInt16LE(2, 4);
  out.writeUInt16LE(4, 6);
  out.writeInt32LE(0, 8);
  out.writeUInt32LE(0, 12);
  out.writeUInt32LE(LIVE_SNAPLEN, 16);
  // the link type (offset 20) once the device is open
  let len = 24;
  let packets = 0;
  let scheduled = false;
  let lastPacket = 0;
  let queueDrops = 0;
  // The pipe to the meter, non-blocking. process.stdout on a pipe writes synchronously: whenever the
  // meter fell behind (a busy CPU, a GC pause), the helper stopped taking packets and the kernel's
  // ring, a few thousand frames at most (cap asks for 64 KiB frames), overflowed. Queued here
  // instead, seconds of backlog wait in memory, up to QUEUE_MAX; beyond it packets are dropped and
  // counted.
  const sink = new net.Socket({ fd: 1, readable: false, writable: true });
  sink.on('error', () => process.exit(0));

  function flush(): void {
    scheduled = false;
    if (len === 0) return;
    if (sink.writableLength > QUEUE_MAX) {
      queueDrops += packets;
    } else {
      // A flush is often a few packets: copy what was used and keep the big buffer (a fresh
      // 1 MiB buffer per write cost more than the packets themselves).
      sink.write(Buffer.from(out.subarray(0, len)));
    }
    len = 0;
    packets = 0;
  }

  const reportDrops = (then?: () => void): void => {
    const m: HelperMessage = { kind: 'drops', kernel: ring ? ring() : null, queue: queueDrops };
    if (process.send) process.send(m, undefined, {}, () => then?.());
    else then?.();
  };

  const onPacket = (nbytes: number): void => {
    // one clock read per packet, first thing: the stamp, which also tells the drain when the ring went quiet
    const t = epoch + performance.now();
    lastPacket = t;
    const sec = Math.floor(t / 1000);
    const usec = Math.floor((t - sec * 1000) * 1000);
    const caplen = nbytes < LIVE_SNAPLEN ? nbytes : LIVE_SNAPLEN;
    if (len + 16 + caplen > CHUNK) flush();
    out.writeUInt32LE(sec, len);
    out.writeUInt32LE(usec, len + 4);
    out.writeUInt32LE(caplen, len + 8);
    out.writeUInt32LE(nbytes, len + 12);
    frame.copy(out, len + 16, 0, caplen);
    len += 16 + caplen;
    packets++;
    // Stamps need the helper woken for every packet; the pipe does not. Writing once per poll round
    // meant a syscall (and a wake-up of the meter) per packet or two at high rates: collect for
    // FLUSH_MS instead, far below the slack the pipeline gives a window to close.
    if (!scheduled) {
      scheduled = true;
      setTimeout(flush, FLUSH_MS);
    }
  };

  let linkName: string;
  try {
    linkName = cap.open(opts.iface, opts.bpf, opts.bufferSize, frame);
  } catch (err) {
    send({ kind: 'error', message: (err as Error).message });
    process.disconnect?.();
    return;
  }
  const linkType = linkTypeNumber(linkName);
  if (linkType === null) {
    send({ kind: 'error', message: `link type ${linkName} of ${opts.iface} is not supported` });
    cap.close();
    process.disconnect?.();
    return;
  }
  out.writeUInt32LE(linkType, 20);
  const ring = ringStats();
  if (opts.dropTo) dropPrivileges(opts.dropTo);
  setInterval(() => reportDrops(), STATS_MS).unref();

  // On SIGTERM, what the kernel already captured is still read: stop once the ring has been quiet
  // for DRAIN_QUIET_MS (or after DRAIN_MAX_MS under a flood); then the queue goes down the pipe,
  // the last counts are sent, and the helper leaves.
  process.on('SIGTERM', () => {
    const t0 = performance.now();
    const check = (): void => {
      const now = epoch + performance.now();
      if (now - lastPacket >= DRAIN_QUIET_MS || performance.now() - t0 >= DRAIN_MAX_MS) {
        cap.close();
        flush();
        reportDrops(() => sink.end(() => process.exit(0)));
        return;
      }
      setTimeout(check, DRAIN_QUIET_MS);
    };
    check();
  });
  cap.on('packet', onPacket);
  send({ kind: 'open', linkType });
}

interface CapHandle {
  open(device: string, filter: string, bufSize: number, buffer: Buffer): string;
  close(): void;
  on(event: 'packet', fn: (nbytes: number, truncated: boolean) => void): void;
}

if (require.main === module) helperMain(JSON.parse(process.argv[2]) as LiveOptions);
