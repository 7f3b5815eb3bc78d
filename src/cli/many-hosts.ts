/**
 * spymate-tui's options for many capture hosts (docs/many-hosts.md): --store postgres://... makes
 * a run with a source a sensor of a shared PostgreSQL store, and a run without one the view over
 * all sensors; --ipfix sends call records to an IPFIX collector. Without them nothing changes.
 */
import os from 'node:os';
import type { Command } from 'commander';
import { DEFAULT_PEN } from '../export/ipfix';
import { parseIpfixUrl, type IpfixReport } from '../export/ipfix-exporter';
import type { IpfixSpec, SensorSpec } from '../monitor/filter-thread';
import type { StoreReport } from '../store/pg/sensor-store';
import { isPgUrl, parsePgUrl } from '../store/pg/target';
import { usageError } from '../util/errors';
import { intInRange, positiveNumber } from './program';

export interface HostOpts {
  store?: string;
  sensor?: string;
  storeQueue: number;
  storeSpool: number;
  ipfix?: string;
  ipfixInterval: number;
  ipfixPen: number;
}

const DEFAULT_QUEUE_MIB = 64;
const DEFAULT_SPOOL_MIB = 256;
const DEFAULT_IPFIX_INTERVAL_S = 10;
/** how long a sensor's end waits for a PostgreSQL server that is away */
const DRAIN_MS = 30_000;
const SENSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function addHostOptions(program: Command): Command {
  return program
    .option(
      '--store <URL>',
      'postgres://USER@HOST:PORT/DB: with a source, store there as a sensor; without, view all sensors',
    )
    .option('--sensor <NAME>', `this capture host's name in --store (default: the host name, ${os.hostname()})`)
    .option(
      '--store-queue <MIB>',
      'memory for records while --store is unreachable',
      intInRange('--store-queue', 1, 65536),
      DEFAULT_QUEUE_MIB,
    )
    .option(
      '--store-spool <MIB>',
      'then disk (a file in $TMPDIR) before records are dropped; 0 = none',
      intInRange('--store-spool', 0, 1 << 20),
      DEFAULT_SPOOL_MIB,
    )
    .option('--ipfix <URL>', 'udp://HOST:PORT or tcp://HOST:PORT: send call records to an IPFIX collector')
    .option(
      '--ipfix-interval <S>',
      'seconds between two IPFIX records of one call',
      positiveNumber('--ipfix-interval'),
      DEFAULT_IPFIX_INTERVAL_S,
    )
    .option(
      '--ipfix-pen <N>',
      `private enterprise number of spymate's IPFIX elements (default ${DEFAULT_PEN}: RFC 5612's documentation number)`,
      intInRange('--ipfix-pen', 1, 0xffffffff),
      DEFAULT_PEN,
    );
}

/** The view: --store without a source. */
export function isView(o: HostOpts, hasSource: boolean): boolean {
  return o.store !== undefined && !hasSource;
}

/** Usage errors (exit 2) before anything starts. */
export function checkHostUsage(
  o: HostOpts & { db?: string; headless?: boolean; out?: string },
  hasSource: boolean,
  /** whether the user gave the option (not its default) */
  given: (key: keyof HostOpts) => boolean,
): void {
  if (o.store !== undefined) {
    if (!isPgUrl(o.store)) {
      throw usageError(
        `--store: '${o.store}' is not a postgres://USER@HOST:PORT/DB URL (without --store, records go to SQLite, --db)`,
      );
    }
    parsePgUrl(o.store);
    if (o.db !== undefined) throw usageError('--db (SQLite) and --store (PostgreSQL) exclude each other: give one');
  }
  for (const [key, flag] of [
    ['sensor', '--sensor'],
    ['storeQueue', '--store-queue'],
    ['storeSpool', '--store-spool'],
  ] as const) {
    if (given(key) && (o.store === undefined || !hasSource)) {
      throw usageError(`${flag} applies to a sensor: give a source (-i IFACE or -f TRACE) and --store postgres://...`);
    }
  }
  if (o.sensor !== undefined && !SENSOR_NAME.test(o.sensor)) {
    throw usageError(
      `--sensor '${o.sensor}': use letters, digits, '.', '_' and '-' (at most 63), starting with a letter or digit`,
    );
  }
  if (o.store !== undefined && hasSource && o.sensor === undefined && !SENSOR_NAME.test(os.hostname())) {
    throw usageError(`the host name '${os.hostname()}' is no sensor name: give --sensor NAME`);
  }
  if (o.ipfix !== undefined) parseIpfixUrl(o.ipfix);
  for (const [key, flag] of [
    ['ipfixInterval', '--ipfix-interval'],
    ['ipfixPen', '--ipfix-pen'],
  ] as const) {
    if (given(key) && o.ipfix === undefined) throw usageError(`${flag} applies to --ipfix only`);
  }
  if (isView(o, hasSource)) {
    if (o.headless)
      throw usageError('the view over --store is a terminal UI: --headless needs a source (-i IFACE or -f TRACE)');
    for (const [flag, v] of [
      ['--ipfix', o.ipfix],
      ['--out', o.out],
    ] as const) {
      if (v !== undefined)
        throw usageError(`${flag} needs a source (-i IFACE or -f TRACE): the view over --store only reads`);
    }
  }
}

export function sensorSpec(o: HostOpts, hasSource: boolean): SensorSpec | null {
  if (o.store === undefined || !hasSource) return null;
  return {
    url: o.store,
    sensor: o.sensor ?? os.hostname(),
    memoryBytes: o.storeQueue * 1024 * 1024,
    diskBytes: o.storeSpool * 1024 * 1024,
    spoolDir: os.tmpdir(),
    drainMs: DRAIN_MS,
  };
}

export function ipfixSpec(o: HostOpts): IpfixSpec | null {
  if (o.ipfix === undefined) return null;
  return { url: o.ipfix, intervalS: o.ipfixInterval, pen: o.ipfixPen, domain: 1 };
}

/** The end-of-run lines on stderr for the store and the exporter. */
export function hostSummaryLines(store: StoreReport | null, storeLabel: string, ipfix: IpfixReport | null): string[] {
  const lines: string[] = [];
  if (store) {
    const away =
      store.outages > 0
        ? `; away ${store.outages} time${store.outages > 1 ? 's' : ''}, ${store.downSeconds.toFixed(1)} s in all`
        : '';
    const spilled = store.spilled > 0 ? `, ${store.spilled} waited on disk` : '';
    lines.push(`${storeLabel}: ${store.delivered} window records stored${spilled}${away}`);
    if (store.dropped > 0)
      lines.push(
        `${storeLabel}: ${store.dropped} window records dropped: the queue was full (--store-queue, --store-spool)`,
      );
    if (store.queued > 0) lines.push(`${storeLabel}: ${store.queued} window records still queued at exit: not stored`);
    if (store.flowsPending > 0)
      lines.push(`${storeLabel}: the latest state of ${store.flowsPending} flows was not stored`);
  }
  if (ipfix) {
    const lost = ipfix.dropped > 0 ? `, ${ipfix.dropped} could not be sent` : '';
    lines.push(
      `IPFIX ${ipfix.url}: ${ipfix.records} records in ${ipfix.messages} messages (${ipfix.bytes} bytes)${lost}`,
    );
  }
  return lines;
}
