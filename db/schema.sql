-- spymate database, schema version 5 (PRAGMA user_version; upgrades in db/migrations/, applied
-- by src/store/migrate.ts; a test checks this file equals the migrations applied in order). The filter thread is the only writer; the TUI reads.
-- Times are UNIX epoch seconds (REAL). "clock" is the pipeline's notion of now: the wall clock
-- when capturing live, the packet time when replaying a trace.

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT
);
-- meta keys: schema_version, source ('iface:eth0' | 'file:/path' | 'records:/path'),
-- monitor_start (epoch of the start of monitoring), clock, model, window_ms, timeout_s,
-- keep_s, packets, drops, pps, flows, calls, windows, records_per_s, replay_position (0..1),
-- feature_names (JSON array: the names of the values in windows.features; a run with another
-- list rewrites the stored features by name, src/store/flow-store.ts)
-- (schema_version mirrors PRAGMA user_version, which is what migrations go by)

-- One row per call flow, deduplicated by flow ID (upserted as windows arrive).
CREATE TABLE IF NOT EXISTS flows (
  flow_id        TEXT PRIMARY KEY,
  app            TEXT NOT NULL,
  src_ip         TEXT NOT NULL,
  src_port       INTEGER NOT NULL,
  des_ip         TEXT NOT NULL,
  des_port       INTEGER NOT NULL,
  protocol       TEXT NOT NULL,
  first_ts       REAL NOT NULL,            -- first packet
  last_ts        REAL NOT NULL,            -- last packet
  media_ts       REAL,                     -- start of the first media window (ringTime = media_ts - first_ts)
  packets        INTEGER NOT NULL DEFAULT 0,
  bytes          INTEGER NOT NULL DEFAULT 0,
  bitrate        REAL NOT NULL DEFAULT 0,  -- bit/s over the last window
  windows        INTEGER NOT NULL DEFAULT 0,
  person_windows INTEGER NOT NULL DEFAULT 0,
  presence       TEXT NOT NULL DEFAULT 'unknown', -- person | background | camera-off | unknown
  probability    REAL,                     -- P(person) of the final (smoothed, causal) prediction
  certainty      REAL,                     -- confidence in `presence`, 0..100
  timeout_at     REAL NOT NULL,            -- clock value at which the record times out
  ended          INTEGER NOT NULL DEFAULT 0,
  end_reason     TEXT,                     -- fin | rst | media-stop | timeout | evicted | end-of-trace
  ended_at       REAL,                     -- clock when ended; the row leaves after keep_s
  updated_at     REAL NOT NULL,            -- clock of the last upsert
  call_certainty REAL,                     -- how sure the pick as a call is, 0..1: 1 for a rule (v5)
  call_reason    TEXT                      -- why it is a call: rule file:line, or the call classifier's score (v5)
);
CREATE INDEX IF NOT EXISTS flows_last ON flows(last_ts);

-- Window history per flow, for the sparkline and the details view. A rowid table: rows are
-- appended in time order; (flow_id, start) is unique, so a replayed window replaces itself.
CREATE TABLE IF NOT EXISTS windows (
  flow_id     TEXT NOT NULL,
  start       REAL NOT NULL,
  end         REAL NOT NULL,
  packets     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  bitrate     REAL NOT NULL,
  raw         INTEGER,                     -- bare per-window classifier: 1 person, 0 background
  presence    INTEGER,                     -- final causal prediction
  probability REAL,                        -- P(person) of the final prediction
  features    BLOB NOT NULL,               -- float64 little-endian values, in the order of meta 'feature_names'; NaN = no value (v3)
  certainty   REAL,                        -- confidence in `presence`, 0..100 (v2)
  raw_probability REAL,                    -- P(person) of the bare per-window classifier (v2)
  UNIQUE (flow_id, start)
);
