import type { CidrSet } from '../flow/local';

/** Which endpoint a port= / net= condition looks at: either, the local one (l…) or the remote one (r…). */
export type Side = 'any' | 'local' | 'remote';

export const SHAPE_NAMES = [
  'stun', 'msstun', 'dtls', 'rtp', 'rtcp', 'zoom', 'whatsapp', 'telegram', 'imo', 'line', 'viber', 'quic', 'wireguard', 'openvpn',
] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export type Condition =
  | { kind: 'proto'; proto: number }
  | { kind: 'port'; side: Side; negate: boolean; ranges: readonly number[] /* lo,hi pairs */ }
  | { kind: 'net'; side: Side; negate: boolean; nets: CidrSet }
  | { kind: 'shape'; shapes: readonly ShapeName[] }
  | { kind: 'rate'; pps: number; seconds: number };

/** One line of a rules file: all conditions must hold for the flow to be a call of `app`. */
export interface Rule {
  app: string;
  /** `!APP:` lines: a flow they match is not a call (a tunnel, web traffic), whatever later rules say */
  exclude: boolean;
  file: string;
  line: number;
  conditions: readonly Condition[];
}

/** The 5-tuple view of a flow that rules read (src/flow/table.ts Flow has it): src = local side, des = remote. */
export interface FlowKey {
  proto: number;
  version: 4 | 6;
  srcAddr: Uint32Array;
  desAddr: Uint32Array;
  srcPort: number;
  desPort: number;
}

/** Mean packets/s of a flow from its first packet to now; NaN while the flow is younger than `seconds`. */
export type RateProbe = (seconds: number) => number;
