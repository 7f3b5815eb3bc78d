/** What the flow stage produces: bidirectional flows with a local side, picked as calls by the rules. */

export type Protocol = 'UDP' | 'TCP';

/** Why a flow record ended (the `end` column is set for all of these). */
export type EndReason = 'fin' | 'rst' | 'media-stop' | 'timeout' | 'evicted' | 'end-of-trace';

/**
 * A flow as the later stages see it. `src*` is the local (or, failing that, initiating)
 * endpoint; "out" is src → des, "in" is des → src.
 */
export interface FlowInfo {
  /** stable: the same trace replayed gives the same ID */
  flowID: string;
  srcIP: string;
  srcPort: number;
  desIP: string;
  desPort: number;
  protocol: Protocol;
  /** epoch seconds of the first and the last packet seen */
  firstTs: number;
  lastTs: number;
  packets: number;
  bytes: number;
  /** rule name that picked the flow as a call (e.g. 'zoom', 'webrtc'); null while undecided or not a call */
  app: string | null;
  /** call certainty, 0..1: 1 when a rule named the call, the call classifier's probability otherwise */
  certainty: number;
  /** why it is a call: 'rules/72-telegram.rules:6', or 'classifier: P(call) 0.93; …' */
  reason: string;
}
