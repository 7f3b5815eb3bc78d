-- spymate database, schema version 7 (PRAGMA user_version; upgrades in db/migrations/, applied
-- by src/store/migrate.ts; a test checks this file equals the migrations applied in order). The filter thread is the only writer; the TUI reads.
-- Times are UNIX epoch seconds (REAL). "clock" is the pipeline's notion of now: the wall clock
-- when capturing live, the packet time when replaying a trace.

CREATE TABLE IF NOT EXISTS meta (
  key   TEXT PRIMARY KEY,
  value TEXT
);
-- meta keys: schema_version, run (the id in `runs` of the run that wrote meta last), source ('iface:eth0' | 'file:/path' | 'records:/path'),
-- monitor_start (epoch of the start of monitoring), clock, model, window_ms, timeout_s,
-- keep_s, packets, drops (packets not processed, all causes; v7 also by cause: drops_kernel, the
-- capture ring, empty when unknown; drops_interface; drops_meter, spymate's own queue), pps, flows,
-- calls, windows, records_per_s, replay_position (0..1),
-- finished_at (the clock when the run's source ended and its last records were stored; NULL while it runs),
-- feature_names (JSON array: the names of the values in windows.features; a run with another
-- list rewrites the stored features by name, src/store/flow-store.ts)
-- (schema_version mirrors PRAGMA user_version, which is what migrations go by)

-- One row per run of the monitor on this database (v6). A run's UI shows the rows its run wrote;
-- `spymate-tui --db FILE` alone shows them all. Who ran it and how it ended (v7): the history
-- shows every writer, not only the last one.
CREATE TABLE IF NOT EXISTS runs (
  id         INTEGER PRIMARY KEY,
  started_at REAL NOT NULL,                -- wall clock
  source     TEXT,                         -- as meta 'source'
  pid        INTEGER,                      -- the process, and its user (after the privilege drop)
  uid        INTEGER,
  model      TEXT,
  window_ms  INTEGER,
  ended_at   REAL,                         -- wall clock; NULL while running, or when the run was killed
  packets    INTEGER,                      -- when it ended: packets counted,
  drops      INTEGER,                      -- packets never processed (kernel, interface, spymate's queue),
  records    INTEGER                       -- classified records stored
);

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
  presence       TEXT NOT NULL DEFAULT 'unknown', -- person | background | camera-off | no video | unknown: the local camera
  probability    REAL,                     -- P(person) of the final (smoothed, causal) prediction
  certainty      REAL,                     -- confidence in `presence`, 0..100
  timeout_at     REAL NOT NULL,            -- clock value at which the record times out
  ended          INTEGER NOT NULL DEFAULT 0,
  end_reason     TEXT,                     -- fin | rst | media-stop | timeout | evicted | end-of-trace
  ended_at       REAL,                     -- clock when ended; the row leaves after keep_s
  updated_at     REAL NOT NULL,            -- clock of the last upsert
  call_certainty REAL,                     -- how sure the pick as a call is, 0..1: 1 for a rule (v5)
  call_reason    TEXT,                     -- why it is a call: rule file:line, or the call classifier's score (v5)
  run            INTEGER NOT NULL DEFAULT 0, -- the run that wrote the row last (v6; 0: before runs were kept)
  presence_since REAL,                     -- start of the first window of the current presence run (v6)
  -- the remote side's camera, judged from what the local side receives (v6): as presence, probability,
  -- certainty and presence_since are for the local side's
  remote_presence    TEXT NOT NULL DEFAULT 'unknown',
  remote_probability REAL,
  remote_certainty   REAL,
  remote_since       REAL
);
CREATE INDEX IF NOT EXISTS flows_last ON flows(last_ts);
-- a run's rows, and how many ended, counted from the index alone at each refresh of the UI
CREATE INDEX IF NOT EXISTS flows_run ON flows(run, ended);

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
  run         INTEGER NOT NULL DEFAULT 0,  -- the run that wrote the window (v6)
  remote_presence    INTEGER,              -- the remote side's camera: final prediction (v6)
  remote_probability REAL,                 -- and its P(person) (v6)
  UNIQUE (flow_id, start)
);
