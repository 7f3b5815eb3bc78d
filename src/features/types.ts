import type { EndReason, FlowInfo } from '../flow/types';

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
  /** the local side sent no video for a while though its media is readable: its camera is off (src/features/sent-video.ts) */
  cameraOff: boolean;
}

/** What the offline extractor and the live meter both receive from the windowing stage. */
export interface PipelineSink {
  /** a flow was picked as a call by the rules */
  callStart(flow: FlowInfo): void;
  window(w: WindowRecord): void;
  callEnd(flow: FlowInfo, reason: EndReason): void;
}
