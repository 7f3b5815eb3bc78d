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
  /** call certainty of the flow, 0..1: 1 for a rule's call, the call classifier's probability for its own */
  callCertainty: number;
  /** ground truth when labels were given: 1 person, 0 background */
  label?: 0 | 1;
  /** the local side sent no video for a while though its media is readable: its camera is off (src/features/sent-video.ts) */
  cameraOff: boolean;
}

/**
 * The learned call classifier (src/model/call-model.ts), for the flows no rule names: P(call) of
 * a flow's FLOW_FEATURE_NAMES values (src/features/flow-summary.ts).
 */
export interface CallClassifier {
  probability(x: Float64Array): number;
  /** P(call) at or above which a flow is a call */
  readonly threshold: number;
  /** feature indexes, most telling first: what a reason shows */
  readonly top: readonly number[];
}

/** A flow's verdict, for `spymate extract --explain`: every flow gets exactly one. */
export interface FlowVerdict {
  flow: FlowInfo;
  call: boolean;
  /** rule file:line, classifier score and statistics, or why it was rejected */
  reason: string;
}

/** What the offline extractor and the live meter both receive from the windowing stage. */
export interface PipelineSink {
  /** a flow was picked as a call by the rules */
  callStart(flow: FlowInfo): void;
  window(w: WindowRecord): void;
  callEnd(flow: FlowInfo, reason: EndReason): void;
  /** when set, every flow's verdict (calls, rejected candidates, never-inspected flows) */
  verdict?(v: FlowVerdict): void;
  /**
   * when set, every flow that reaches the classifier's gates (packets, age, rate) hands over its
   * FLOW_FEATURE_NAMES values and the rule that named it (null: none): the training data
   */
  judged?(flow: FlowInfo, x: Float64Array, rule: string | null): void;
}
