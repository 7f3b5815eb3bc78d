import { UserError } from '../util/errors';
import { describeSupportedLinkTypes, SUPPORTED_LINKTYPES } from './decode';

/** The largest captured length we accept for one packet (libpcap's own maximum snaplen). */
export const MAX_RECORD = 256 * 1024;

/** The messages the pcap and pcapng readers share, so both say the same thing the same way. */
function cutOffWarning(name: string, offset: number, packets: number): string {
  return `${name}: trace cut off in the middle of a record at byte ${offset}; read ${packets} packets before it`;
}

export function recordTooLong(name: string, what: string, offset: number, capLen: number): UserError {
  return new UserError(
    `${name}: ${what} at byte ${offset} claims ${capLen} captured bytes, over the ${MAX_RECORD / 1024} KiB limit; ` +
      'the file is damaged or not a trace (re-capture it, or cut the good part out with editcap)',
  );
}

export function checkLinkType(name: string, linkType: number, where: string): void {
  if (SUPPORTED_LINKTYPES.has(linkType)) return;
  throw new UserError(
    `${name}: link type ${linkType} (${where}) is not supported; supported link types: ${describeSupportedLinkTypes()}`,
  );
}

/**
 * The warnings a reader adds when its stream ends: the byte source's own, then a cut-off
 * record's (`cutAt`: where the unfinished record started, or null when the stream ended cleanly).
 */
export function endOfTraceWarnings(
  name: string,
  sourceWarnings: readonly string[],
  cutAt: number | null,
  packets: number,
): string[] {
  const out = [...sourceWarnings];
  if (cutAt !== null) out.push(cutOffWarning(name, cutAt, packets));
  return out;
}
