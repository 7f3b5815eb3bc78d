/** Sensors of the PostgreSQL store as the tests and the bench run them, without the capture. */
import os from 'node:os';
import { FEATURE_NAMES } from '../features/names';
import { BatchBuilder, unpackBatch } from '../store/batch';
import { quotedKeys } from '../store/ndjson';
import { SensorStore, type SensorStoreOptions, type StoreReport } from '../store/pg/sensor-store';
import { parsePgUrl } from '../store/pg/target';
import type { LiveRecord } from '../store/types';
import { STATS } from './records';

/** Options of a sensor on `url`: room in memory for a whole test's records, no spool, quiet. */
export function sensorOptions(url: string, sensor: string, over: Partial<SensorStoreOptions> = {}): SensorStoreOptions {
  return {
    target: parsePgUrl(url),
    sensor,
    run: { source: 'file:/test.pcapng', model: 'test.json', windowMs: 500 },
    timeoutS: 100,
    keepS: 60,
    featureNames: FEATURE_NAMES,
    budget: { memoryBytes: 1024 ** 3, diskBytes: 0, spoolDir: os.tmpdir() },
    drainMs: 60_000,
    warn: () => undefined,
    ...over,
  };
}

/** One sensor run over `records`, in batches of 512 at pipeline time `clock`, closed: its report. */
export async function storeRun(
  url: string,
  sensor: string,
  records: readonly LiveRecord[],
  clock: number,
  over: Partial<SensorStoreOptions> = {},
): Promise<StoreReport> {
  const store = await SensorStore.open(sensorOptions(url, sensor, over));
  for (let i = 0; i < records.length; i += 512) {
    const b = new BatchBuilder(quotedKeys(FEATURE_NAMES), 512, false);
    for (const r of records.slice(i, i + 512)) b.add(r);
    store.apply(unpackBatch(b.seal(clock, clock, STATS, false).batch, FEATURE_NAMES.length), 0);
  }
  return store.close();
}
