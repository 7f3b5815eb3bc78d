/** Record builders for store tests: what the meter worker would post. */
import { FEATURE_NAMES } from '../features/names';
import { BatchBuilder, unpackBatch } from '../store/batch';
import { quotedKeys } from '../store/ndjson';
import { emptyMeterStats, type FlowEventOut, type MeterStats, type RecordBatch, type WindowOut } from '../store/types';

const KEYS = quotedKeys(FEATURE_NAMES);

export const STATS: MeterStats = { ...emptyMeterStats(), flows: 1, calls: 1 };

export function flowFields(id: string, start: number, end: number) {
  return {
    flowID: id,
    app: 'webrtc',
    srcIP: '10.0.0.1',
    srcPort: 5000,
    desIP: '192.0.2.7',
    desPort: 6000,
    protocol: 'UDP',
    start,
    end,
    callCertainty: 1,
  };
}

export function windowRec(
  id: string,
  start: number,
  packets: number,
  person: boolean,
  windowS = 0.5,
  nanAt = -1,
): WindowOut {
  const features = new Float64Array(FEATURE_NAMES.length);
  // values as long as the pipeline's (rounded to a few decimals)
  for (let i = 0; i < features.length; i++)
    features[i] = i === nanAt ? NaN : Math.round(packets * (i + 1) * 1234.567) / 1000;
  return {
    event: 'window',
    ...flowFields(id, start, start + windowS),
    packets,
    bytes: packets * 1000,
    features,
    presence: person ? 'person' : 'background',
    probability: person ? 0.9 : 0.1,
    raw: person ? 1 : 0,
    rawProbability: person ? 0.8 : 0.2,
    certainty: 80,
    remotePresence: person ? 'background' : 'person',
    remoteProbability: person ? 0.2 : 0.7,
    remoteCertainty: 70,
  };
}

export function startRec(id: string, ts: number): FlowEventOut {
  return { event: 'start', ...flowFields(id, ts, ts), packets: 1, bytes: 100 };
}

export function endRec(
  id: string,
  first: number,
  last: number,
  packets: number,
  reason: FlowEventOut['reason'],
): FlowEventOut {
  return { event: 'end', ...flowFields(id, first, last), packets, bytes: packets * 1000, reason };
}

/** A batch as the meter seals it (NDJSON lines and feature rows packed by store/batch.ts). */
export function batch(clock: number, records: RecordBatch['records'], final = false): RecordBatch {
  const b = new BatchBuilder(KEYS, records.length);
  for (const r of records) b.add(r);
  return unpackBatch(b.seal(clock, 1700000000, STATS, final).batch, FEATURE_NAMES.length);
}
