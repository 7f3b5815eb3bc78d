/**
 * The meter worker (worker_threads): source (live capture, trace replay, saved records) → decode →
 * Pipeline (flows, call rules, windows, features) → one SequencePredictor per call flow → batches
 * of classified records posted straight to the filter thread. Batches close at BATCH_MAX records
 * or BATCH_MS after their first record; an empty heartbeat goes at least every HEARTBEAT_MS so the
 * filter thread's clock (timeouts, meta) moves on a quiet network. The main thread only gets stats.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { describeFailure, UserError } from '../util/errors';
import { FEATURE_NAMES, REMOTE_FEATURE_NAMES } from '../features/names';
import { Pipeline } from '../features/pipeline';
import type { PipelineSink, Sending, WindowRecord } from '../features/types';
import type { EndReason, FlowInfo } from '../flow/types';
import { parseLocal } from '../flow/local';
import { loadRules } from '../rules/load';
import { callClassifier, DEFAULT_CALL_MODEL_PATH, loadCallModel } from '../model/call-model';
import { DEFAULT_MODEL_PATH, loadModel } from '../model/load';
import type { PresenceModel, SequencePredictor } from '../model/types';
import { BatchBuilder } from '../store/batch';
import { isSummaryLine, parseRecordLine, quotedKeys } from '../store/ndjson';
import {
  emptyMeterStats,
  type FlowEventOut,
  type LiveRecord,
  type MeterStats,
  type WindowOut,
  type WorkerFailure,
} from '../store/types';
import { decodePacket, newDecodedPacket, newRawPacket } from '../capture/decode';
import { LiveCapture } from '../capture/live';
import { openTrace, traceName } from '../capture/reader';
import type { PacketSource, RawPacket } from '../capture/types';

export type SourceSpec =
  | {
      kind: 'live';
      iface: string;
      bpf: string;
      bufferSize: number;
      dropTo: { uid: number; gid: number } | null;
      powerSave: boolean;
    }
  /** speed: replay speed factor, null = as fast as possible */
  | { kind: 'file'; path: string; speed: number | null }
  | { kind: 'records'; path: string };

export interface MeterWorkerData {
  source: SourceSpec;
  windowMs: number;
  rulesPath: string | null;
  modelPath: string | null;
  /** the call classifier's model; null: the shipped one when present (else rules only) */
  callModelPath: string | null;
  local: string[];
  timeoutS: number;
  maxFlows: number;
  /** somebody reads the NDJSON (--headless, --out): format it */
  ndjson: boolean;
  port: MessagePort;
}

/** meter worker → main thread */
export type MeterMessage =
  /** live: the capture device is open (the main thread may drop root now) */
  | { kind: 'device' }
  /** rules, model and source are open: the meter waits for 'start' */
  | { kind: 'open' }
  | { kind: 'warning'; line: string }
  | { kind: 'stats'; stats: MeterStats }
  | WorkerFailure
  | { kind: 'done'; stats: MeterStats };

/**
 * main thread → meter worker: 'setup' after the privilege drop (live), 'start' once the outputs are
 * open, 'stop' at any time.
 */
export type MeterCommand = { kind: 'setup' } | { kind: 'start' } | { kind: 'stop' };

const BATCH_MAX = 512;
const BATCH_MS = 100;
const HEARTBEAT_MS = 250;
/** Live windows close this long after the wall clock passes them: packets still in the pipe from the helper land first. */
const LIVE_SLACK_S = 0.2;
/** Replay at --speed max yields to the event loop (messages, timers) after this many packets. */
const REPLAY_CHUNK = 16384;

function nowS(): number {
  return Date.now() / 1000;
}

/** Fraction of the trace file read so far, from the fd position in /proc (the reader does not expose it). */
function replayPositionProbe(tracePath: string): () => number | null {
  let size = 0;
  let target = '';
  try {
    target = fs.realpathSync(tracePath);
    size = fs.statSync(target).size;
  } catch {
    return () => null;
  }
  let fdinfo: string | null = null;
  return () => {
    if (!size) return null;
    try {
      if (!fdinfo) {
        for (const fd of fs.readdirSync('/proc/self/fd')) {
          if (fs.readlinkSync(`/proc/self/fd/${fd}`) === target) fdinfo = `/proc/self/fdinfo/${fd}`;
        }
      }
      if (!fdinfo) return null;
      const m = /^pos:\s*(\d+)/m.exec(fs.readFileSync(fdinfo, 'utf8'));
      return m ? Math.min(1, Number(m[1]) / size) : null;
    } catch {
      return null;
    }
  };
}

/** One side's presence in one window, as the records carry it. */
type Judgement = Pick<WindowOut, 'presence' | 'probability' | 'raw' | 'rawProbability' | 'certainty'>;

const UNKNOWN: Judgement = { presence: 'unknown', probability: null, raw: null, rawProbability: null, certainty: null };

class Meter {
  private readonly port: MessagePort;
  private readonly post: (m: MeterMessage) => void;
  private pipeline: Pipeline | null = null;
  private model: PresenceModel | null = null;
  /** per call: the predictors of the local and of the remote camera, made when first asked */
  private readonly predictors = new Map<string, [SequencePredictor | null, SequencePredictor | null]>();
  private readonly batch: BatchBuilder;
  private batchStart = 0;
  private lastPost = 0;
  private clock = 0;
  private monitorStart: number | null = null;
  private stopped = false;
  private finished = false;
  readonly stats: MeterStats = emptyMeterStats();
  private ppsMark = { t: Date.now(), packets: 0 };
  private capture: LiveCapture | null = null;
  private trace: PacketSource | null = null;
  private recordsFd: number | null = null;
  private position: () => number | null = () => null;
  private onStop: () => void = () => undefined;

  constructor(
    private readonly data: MeterWorkerData,
    post: (m: MeterMessage) => void,
  ) {
    this.batch = new BatchBuilder(quotedKeys(FEATURE_NAMES), BATCH_MAX, data.ndjson);
    this.port = data.port;
    this.post = post;
  }

  /** Live: the capture helper opens the device (as root, before the drop); throws UserErrors. */
  async openDevice(): Promise<void> {
    const src = this.data.source;
    if (src.kind !== 'live') return;
    const cap = new LiveCapture({
      iface: src.iface,
      bpf: src.bpf,
      bufferSize: src.bufferSize,
      dropTo: src.dropTo,
      powerSave: src.powerSave,
    });
    this.capture = cap;
    this.onStop = () => cap.close();
    await cap.opened;
  }

  /** As the invoking user: rules, model, pipeline, and the trace or saved records; throws UserErrors. */
  async setUp(): Promise<void> {
    const d = this.data;
    const rules = loadRules(d.rulesPath ?? undefined);
    const callModelPath = d.callModelPath ?? DEFAULT_CALL_MODEL_PATH;
    const calls =
      d.callModelPath || fs.existsSync(callModelPath) ? callClassifier(loadCallModel(callModelPath)) : undefined;
    const local = d.local.map((c) => parseLocal(c));
    const modelPath = d.modelPath ?? DEFAULT_MODEL_PATH;
    if (d.modelPath || fs.existsSync(modelPath)) {
      this.model = loadModel(modelPath, { windowMs: d.windowMs, featureNames: FEATURE_NAMES });
    } else {
      this.post({
        kind: 'warning',
        line: `no presence model at ${modelPath}: presence shows 'unknown' (train one with spymate train, then --model)`,
      });
    }
    const sink: PipelineSink = {
      callStart: (f) => this.flowEvent('start', f),
      window: (w) => this.window(w),
      callEnd: (f, reason) => this.flowEvent('end', f, reason),
    };
    this.pipeline = new Pipeline(
      { windowMs: d.windowMs, rules, local, idleTimeoutS: d.timeoutS, maxFlows: d.maxFlows, calls },
      sink,
    );
    if (d.source.kind === 'file') {
      this.trace = await openTrace(d.source.path);
      this.position = replayPositionProbe(d.source.path);
    } else if (d.source.kind === 'records') {
      this.recordsFd = openRecords(d.source.path);
      this.position = replayPositionProbe(d.source.path);
    }
  }

  /** Packets lost before the meter, by cause (live only). */
  private countDrops(): void {
    if (!this.capture) return;
    const d = this.capture.drops();
    this.stats.dropsKernel = d.kernel;
    this.stats.dropsInterface = d.iface;
    this.stats.dropsMeter = d.queue;
    this.stats.drops = (d.kernel ?? 0) + d.iface + d.queue;
  }

  private flowEvent(event: 'start' | 'end', f: FlowInfo, reason?: EndReason): void {
    const r: FlowEventOut = {
      event,
      flowID: f.flowID,
      app: f.app ?? 'unknown',
      srcIP: f.srcIP,
      srcPort: f.srcPort,
      desIP: f.desIP,
      desPort: f.desPort,
      protocol: f.protocol,
      start: f.firstTs,
      end: f.lastTs,
      packets: f.packets,
      bytes: f.bytes,
      callCertainty: f.certainty,
    };
    if (event === 'start') {
      this.stats.calls++;
      r.callReason = f.reason;
    } else {
      r.reason = reason;
      this.predictors.delete(f.flowID);
    }
    this.add(r);
  }

  /** The presence of one side's camera in this window: what its packets say, else the model's word. */
  private judge(w: WindowRecord, sending: Sending, side: 0 | 1): Judgement {
    // no video: nobody can be seen, and the predictor's history stays that of the camera when on
    if (sending !== 'video')
      return { presence: sending, probability: null, raw: null, rawProbability: null, certainty: null };
    if (!this.model) return UNKNOWN;
    let pair = this.predictors.get(w.flowID);
    if (!pair) this.predictors.set(w.flowID, (pair = [null, null]));
    // the remote side's camera is judged by the same model on the values the remote side sent
    const p = (pair[side] ??= this.model.createPredictor(side === 0 ? FEATURE_NAMES : REMOTE_FEATURE_NAMES));
    const pred = p.push(w.features);
    return {
      presence: pred.presence === 1 ? 'person' : 'background',
      probability: pred.probability,
      raw: pred.raw,
      rawProbability: pred.rawProbability,
      certainty: pred.certainty,
    };
  }

  private window(w: WindowRecord): void {
    const { presence, probability, raw, rawProbability, certainty } = this.judge(w, w.sent, 0);
    const remote = this.judge(w, w.received, 1);
    const r: WindowOut = {
      event: 'window',
      flowID: w.flowID,
      app: w.app,
      srcIP: w.srcIP,
      srcPort: w.srcPort,
      desIP: w.desIP,
      desPort: w.desPort,
      protocol: w.protocol,
      start: w.start,
      end: w.end,
      packets: w.packets,
      bytes: w.bytes,
      callCertainty: w.callCertainty,
      features: w.features,
      presence,
      probability,
      raw,
      rawProbability,
      certainty,
      remotePresence: remote.presence,
      remoteProbability: remote.probability,
      remoteCertainty: remote.certainty,
    };
    this.stats.windows++;
    this.add(r);
  }

  /** Saved records go through unchanged (no pipeline, no model). */
  private addSaved(r: LiveRecord): void {
    if (r.event === 'window') this.stats.windows++;
    else if (r.event === 'start') this.stats.calls++;
    this.add(r);
  }

  private add(r: LiveRecord): void {
    if (this.batch.size === 0) this.batchStart = Date.now();
    this.batch.add(r);
    if (this.batch.size >= BATCH_MAX) this.postBatch(false);
  }

  private pipelineStats(): void {
    if (!this.pipeline) return;
    this.stats.packets = this.pipeline.stats.packets;
    this.stats.flows = this.pipeline.stats.flows;
  }

  /** Posts what is pending (or a heartbeat). */
  private postBatch(final: boolean): void {
    const now = Date.now();
    this.pipelineStats();
    if (now - this.ppsMark.t >= 1000) {
      this.stats.pps = ((this.stats.packets - this.ppsMark.packets) * 1000) / (now - this.ppsMark.t);
      this.ppsMark = { t: now, packets: this.stats.packets };
      this.countDrops();
      this.stats.replayPosition = this.position();
      this.post({ kind: 'stats', stats: { ...this.stats } });
    }
    const { batch, transfer } = this.batch.seal(this.clock, this.monitorStart, { ...this.stats }, final);
    this.port.postMessage(batch, transfer);
    this.lastPost = now;
  }

  /** Timer tick: close a batch that is old enough, or send a heartbeat. */
  private tick(): void {
    const now = Date.now();
    if ((this.batch.size && now - this.batchStart >= BATCH_MS) || now - this.lastPost >= HEARTBEAT_MS)
      this.postBatch(false);
  }

  /** The last records: pipeline flushed (open windows, calls ended), final batch, done. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    this.pipeline?.finish();
    this.trace?.close();
    this.trace = null;
    this.countDrops();
    const pos = this.position();
    if (pos !== null) this.stats.replayPosition = pos;
    this.pipelineStats();
    this.postBatch(true);
    this.post({ kind: 'done', stats: { ...this.stats } });
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.onStop();
  }

  async run(): Promise<void> {
    if (this.stopped) return;
    const src = this.data.source;
    const timer = setInterval(() => this.tick(), 50);
    try {
      if (src.kind === 'live') await this.runLive(this.capture!);
      else if (src.kind === 'file') await this.runFile(this.trace!, src.path, src.speed);
      else await this.runRecords(this.recordsFd!, src.path);
    } finally {
      clearInterval(timer);
    }
  }

  private onPacket(raw: RawPacket, dec: ReturnType<typeof newDecodedPacket>): void {
    if (decodePacket(raw, dec)) this.pipeline!.onPacket(dec);
    else this.pipeline!.onOther(raw.ts);
  }

  private runLive(cap: LiveCapture): Promise<void> {
    const dec = newDecodedPacket();
    this.monitorStart = nowS();
    this.clock = this.monitorStart;
    return new Promise<void>((resolve, reject) => {
      cap.start({
        packet: (raw) => {
          if (raw.ts > this.clock) this.clock = raw.ts;
          this.onPacket(raw, dec);
        },
        error: (err) => {
          cap.close();
          reject(err);
        },
      });
      // The wall clock drives the windows live: quiet flows still get their (empty) windows and timeouts.
      const adv = setInterval(() => {
        const t = nowS() - LIVE_SLACK_S;
        if (t > this.clock) this.clock = t;
        this.pipeline!.advance(t);
      }, 50);
      cap.done.then(() => {
        clearInterval(adv);
        resolve();
      }, reject);
    });
  }

  private async runFile(source: PacketSource, tracePath: string, speed: number | null): Promise<void> {
    const raw = newRawPacket();
    const dec = newDecodedPacket();
    let wall0 = 0;
    let ts0 = 0;
    let stopWait: () => void = () => undefined;
    this.onStop = () => stopWait();
    const sleep = (ms: number) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        stopWait = () => {
          clearTimeout(t);
          resolve();
        };
      });
    try {
      while (!this.stopped) {
        let n = 0;
        let more = true;
        while (n < REPLAY_CHUNK && (more = source.next(raw))) {
          if (this.monitorStart === null) {
            this.monitorStart = raw.ts;
            wall0 = performance.now();
            ts0 = raw.ts;
          }
          if (speed !== null) {
            // Paced: hold this packet (its buffer stays valid until the next next()) until it is due;
            // meanwhile the pipeline's clock runs on in packet time, so quiet flows time out on schedule.
            const due = wall0 + ((raw.ts - ts0) * 1000) / speed;
            for (let wait = due - performance.now(); wait > 1 && !this.stopped; wait = due - performance.now()) {
              await sleep(Math.min(wait, HEARTBEAT_MS));
              const t = ts0 + ((performance.now() - wall0) * speed) / 1000;
              if (t > this.clock && t < raw.ts) {
                this.clock = t;
                this.pipeline!.advance(t);
              }
            }
            if (this.stopped) break;
          }
          if (raw.ts > this.clock) this.clock = raw.ts;
          this.onPacket(raw, dec);
          n++;
        }
        // None at hand: the end, or a compressed trace's next piece still inflating.
        if (!more && !(await source.more())) break;
        this.pipeline!.advance(this.clock);
        await new Promise<void>((r) => setImmediate(r));
      }
      for (const w of [...source.warnings, ...this.pipeline!.warnings(traceName(tracePath))])
        this.post({ kind: 'warning', line: w });
    } finally {
      source.close();
      this.trace = null;
    }
  }

  /** Saved NDJSON records, streamed line by line: memory does not grow with the file. */
  private async runRecords(fd: number, file: string): Promise<void> {
    const lines = readline.createInterface({ input: fs.createReadStream('', { fd }), crlfDelay: Infinity });
    let n = 0;
    try {
      for await (const text of lines) {
        n++;
        if (this.stopped) break;
        const line = text.trim();
        // a --headless stream saved whole ends with its summary, which is no record
        if (!line || isSummaryLine(line)) continue;
        const r = parseRecordLine(line, FEATURE_NAMES, `${file}:${n}`);
        if (this.monitorStart === null) this.monitorStart = r.start;
        if (r.end > this.clock) this.clock = r.end;
        this.addSaved(r);
      }
    } finally {
      lines.close();
    }
    this.position = () => 1;
  }
}

/** Opens saved records for reading, or says in one line why it cannot. */
function openRecords(file: string): number {
  try {
    const fd = fs.openSync(file, 'r');
    if (fs.fstatSync(fd).isDirectory()) {
      fs.closeSync(fd);
      throw Object.assign(new Error('directory'), { code: 'EISDIR' });
    }
    return fd;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EISDIR'
          ? 'is a directory'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    throw new UserError(`--records ${file}: cannot read (${why}); give an NDJSON file written by spymate-tui --out`);
  }
}

if (parentPort) {
  const main = parentPort;
  const data = workerData as MeterWorkerData;
  const post = (m: MeterMessage) => main.postMessage(m);
  const meter = new Meter(data, post);
  // The main thread's go-aheads; 'stop' also releases a wait for them.
  const waits = new Map<string, () => void>();
  const said = new Set<string>();
  const waitFor = (kind: 'setup' | 'start'): Promise<void> =>
    said.has(kind) || said.has('stop') ? Promise.resolve() : new Promise((r) => waits.set(kind, r));
  main.on('message', (m: MeterCommand) => {
    said.add(m.kind);
    if (m.kind === 'stop') {
      meter.stop();
      for (const r of waits.values()) r();
    } else waits.get(m.kind)?.();
  });
  (async () => {
    try {
      if (data.source.kind === 'live') {
        await meter.openDevice();
        post({ kind: 'device' });
        await waitFor('setup');
      }
      if (!said.has('stop')) {
        await meter.setUp();
        post({ kind: 'open' });
        await waitFor('start');
        await meter.run();
      }
    } catch (err) {
      post({ kind: 'error', ...describeFailure(err) });
      meter.stop();
    }
    // Whatever was classified before a failure still reaches the filter thread.
    meter.finish();
  })();
}
