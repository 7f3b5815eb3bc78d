import type { EndReason, FlowInfo } from '../flow/types';

/**
 * What a direction's packets say of its camera before any model is asked: it sends video (or
 * cannot be read: the model decides), its camera is off (sound, no video), or it sends no media.
 */
export type Sending = 'video' | 'camera-off' | 'no video';

/**
 * One fixed-length window of one call flow: the unit that is labelled, trained on and classified.
 * `features` is in the order of FEATURE_NAMES (src/features/names.ts).
 */
export interface WindowRecord {
  flowID: string;
  app: string;
  srcIP: string;
  srcPort: number;
  desIP: string;
  desPort: number;
  protocol: string;
  /** epoch seconds; end - start = window length */
  start: number;
  end: number;
  /** both directions, wire sizes */
  packets: number;
  bytes: number;
  features: Float64Array;
  /** ground truth when labels were given: 1 person, 0 background */
  label?: 0 | 1;
  /** what the local side sends, and what it receives (the remote side's camera): src/features/sent-video.ts */
  sent: Sending;
  received: Sending;
}

/** What the offline extractor and the live meter both receive from the windowing stage. */
export interface PipelineSink {
  /** a flow was picked as a call by the rules */
  callStart(flow: FlowInfo): void;
  window(w: WindowRecord): void;
  callEnd(flow: FlowInfo, reason: EndReason): void;
}
