import { decodePacket, newDecodedPacket, newRawPacket } from '../capture/decode';
import { openTrace, traceName } from '../capture/reader';
import { Pipeline, type PipelineOptions } from './pipeline';
import type { PipelineSink } from './types';

export interface ExtractSummary {
  trace: string;
  packets: number;
  ipPackets: number;
  flows: number;
  calls: number;
  windows: number;
  /** problems that did not stop the extraction (a cut-off tail, packets out of time order), one line each, naming the trace */
  warnings: string[];
}

/** Runs one trace through decode → flows → rules → windows → features into `sink`. */
export function extractTrace(path: string, opts: PipelineOptions, sink: PipelineSink): ExtractSummary {
  const source = openTrace(path);
  try {
    const pipeline = new Pipeline(opts, sink);
    const raw = newRawPacket();
    const dp = newDecodedPacket();
    while (source.next(raw)) {
      if (decodePacket(raw, dp)) pipeline.onPacket(dp);
      else pipeline.onOther(raw.ts);
    }
    pipeline.finish();
    return { trace: path, ...pipeline.stats, warnings: [...source.warnings, ...pipeline.warnings(traceName(path))] };
  } finally {
    source.close();
  }
}
