import { decodePacket, newDecodedPacket, newRawPacket } from '../capture/decode';
import { openTrace, traceName } from '../capture/reader';
import type { DecodedPacket, PacketSource, RawPacket } from '../capture/types';
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
export async function extractTrace(path: string, opts: PipelineOptions, sink: PipelineSink): Promise<ExtractSummary> {
  const source = await openTrace(path);
  try {
    const pipeline = new Pipeline(opts, sink);
    const raw = newRawPacket();
    const dp = newDecodedPacket();
    do feed(source, raw, dp, pipeline);
    while (await source.more());
    pipeline.finish();
    return { trace: path, ...pipeline.stats, warnings: [...source.warnings, ...pipeline.warnings(traceName(path))] };
  } finally {
    source.close();
  }
}

/** Runs the packets the source has ready through the pipeline (a plain loop: the per-packet path). */
function feed(source: PacketSource, raw: RawPacket, dp: DecodedPacket, pipeline: Pipeline): void {
  while (source.next(raw)) {
    if (decodePacket(raw, dp)) pipeline.onPacket(dp);
    else pipeline.onOther(raw.ts);
  }
}
