-- schema version 6: one row per run that wrote the database, so its history says who wrote what
-- and when (meta keeps the current or last run's settings and counters, as the UI reads them);
-- each flow row names the run that last wrote it, whose timeout sweep and --keep pruning are the
-- only ones that touch it.
CREATE TABLE IF NOT EXISTS runs (
  id          INTEGER PRIMARY KEY,
  pid         INTEGER NOT NULL,
  uid         INTEGER,
  source      TEXT NOT NULL,             -- as meta 'source'
  model       TEXT,
  window_ms   INTEGER,
  started_at  REAL NOT NULL,             -- wall clock, epoch seconds
  ended_at    REAL,                      -- wall clock; NULL while running, or when the run was killed
  packets     INTEGER,                   -- when it ended: packets counted,
  drops       INTEGER,                   -- packets not processed (kernel, interface and spymate's own drops),
  records     INTEGER                    -- classified records stored
);

ALTER TABLE flows ADD COLUMN run_id INTEGER;   -- runs.id of the run that last wrote the row; NULL before v6
