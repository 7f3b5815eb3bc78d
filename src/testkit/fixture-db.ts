import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { projectRoot } from '../rules/paths';
import { featureBytes } from '../store/features-blob';
import type { FlowRow, WindowRow } from '../tui/types';

/**
 * Databases for the TUI tests: made from the real db/schema.sql, in WAL mode like the filter
 * thread's, filled with rows the test chooses. The test process is the writer; the UI reads.
 */

export const T0 = 1_700_000_000;

let counter = 0;

/** A call flow row; every field can be overridden. */
export function flowRow(over: Partial<FlowRow> = {}): FlowRow {
  counter++;
  const first = over.first_ts ?? T0 + counter;
  return {
    flow_id: `f${String(counter).padStart(4, '0')}`,
    app: 'webrtc',
    src_ip: `192.168.1.${counter % 250}`,
    src_port: 40000 + counter,
    des_ip: `24.62.${counter % 250}.7`,
    des_port: 3478,
    protocol: 'UDP',
    first_ts: first,
    last_ts: first + 60,
    media_ts: first + 1.5,
    packets: 1000 * counter,
    bytes: 900_000 * counter,
    bitrate: 1_200_000,
    windows: 120,
    person_windows: 90,
    presence: 'person',
    probability: 0.9,
    certainty: 90,
    timeout_at: first + 90,
    ended: 0,
    end_reason: null,
    ended_at: null,
    updated_at: first + 60,
    call_certainty: 1,
    call_reason: 'rules/90-webrtc.rules:11',
    ...over,
  };
}

export function windowRows(n: number, start: number, f: (i: number) => Partial<WindowRow> = () => ({})): WindowRow[] {
  return Array.from({ length: n }, (_, i) => ({
    start: start + i * 0.5,
    end: start + i * 0.5 + 0.5,
    packets: 40 + i,
    bytes: 40_000 + 100 * i,
    bitrate: 640_000 + 1000 * i,
    raw: i % 2,
    raw_probability: i % 2 === 1 ? 0.8 : 0.3,
    presence: 1,
    probability: (i % 10) / 10,
    certainty: 80,
    features: { pkt_count: 40 + i, size_mean: 1000.5, iat_std: 0.0123 },
    ...f(i),
  }));
}

const FLOW_COLS = Object.keys(flowRow()) as Array<keyof FlowRow>;

export class FixtureDb {
  readonly db: Database.Database;

  constructor(readonly file: string) {
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(fs.readFileSync(path.join(projectRoot(), 'db', 'schema.sql'), 'utf8'));
  }

  meta(kv: Record<string, string | number>): this {
    const st = this.db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(kv)) st.run(k, String(v));
    })();
    return this;
  }

  flows(rows: FlowRow[]): this {
    const st = this.db.prepare(
      `INSERT OR REPLACE INTO flows (${FLOW_COLS.join(', ')}) VALUES (${FLOW_COLS.map((c) => `@${c}`).join(', ')})`,
    );
    this.db.transaction(() => {
      for (const r of rows) st.run(r);
    })();
    return this;
  }

  windows(flowId: string, rows: WindowRow[]): this {
    const st = this.db.prepare(
      'INSERT OR REPLACE INTO windows (flow_id, start, end, packets, bytes, bitrate, raw, raw_probability, presence, probability, certainty, features) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)',
    );
    // as the filter thread stores them: values as float64 bytes, their names once in meta
    const names = rows.length ? Object.keys(rows[0].features) : [];
    this.db.transaction(() => {
      if (names.length)
        this.db
          .prepare("INSERT OR REPLACE INTO meta (key, value) VALUES ('feature_names', ?)")
          .run(JSON.stringify(names));
      for (const w of rows) {
        const blob = featureBytes(Float64Array.from(names, (n) => w.features[n]));
        st.run(
          flowId,
          w.start,
          w.end,
          w.packets,
          w.bytes,
          w.bitrate,
          w.raw,
          w.raw_probability,
          w.presence,
          w.probability,
          w.certainty,
          blob,
        );
      }
    })();
    return this;
  }

  deleteFlow(flowId: string): this {
    this.db.prepare('DELETE FROM flows WHERE flow_id = ?').run(flowId);
    return this;
  }

  close(): void {
    this.db.close();
  }
}

/** The usual meta of a replay in progress. */
export function replayMeta(over: Record<string, string | number> = {}): Record<string, string | number> {
  return {
    schema_version: 4,
    source: 'file:/tmp/call.pcapng',
    monitor_start: T0,
    clock: T0 + 100,
    model: 'presence-rf',
    window_ms: 500,
    packets: 123456,
    drops: 0,
    pps: 1500,
    flows: 40,
    calls: 3,
    windows: 360,
    replay_position: 0.42,
    ...over,
  };
}
