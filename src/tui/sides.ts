import { otherSide } from '../features/names';
import type { FlowRow, WindowRow } from '../store/view-types';

/**
 * A call seen from its other side, for calls whose local side was guessed wrong (both peers on one
 * address, say): the endpoints trade places, and so do the two cameras. Each function is its own
 * inverse. What has no counterpart for the remote camera (its share of person windows, the bare
 * classifier's figures) is left unknown rather than shown for the wrong camera.
 */

export function otherSideRow(r: FlowRow): FlowRow {
  return {
    ...r,
    src_ip: r.des_ip,
    src_port: r.des_port,
    des_ip: r.src_ip,
    des_port: r.src_port,
    presence: r.remote_presence,
    probability: r.remote_probability,
    certainty: r.remote_certainty,
    presence_since: r.remote_since,
    remote_presence: r.presence,
    remote_probability: r.probability,
    remote_certainty: r.certainty,
    remote_since: r.presence_since,
    person_windows: NaN,
  };
}

export function otherSideWindow(w: WindowRow): WindowRow {
  const features: Record<string, number> = {};
  for (const [name, v] of Object.entries(w.features)) features[otherSide(name)] = v;
  return {
    ...w,
    presence: w.remote_presence,
    probability: w.remote_probability,
    remote_presence: w.presence,
    remote_probability: w.probability,
    raw: null,
    raw_probability: null,
    certainty: null,
    features,
  };
}
