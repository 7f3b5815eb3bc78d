-- schema version 6: runs, both cameras, since when. Every flow and window row carries the run that
-- wrote it last, so a run's UI shows its own rows and its timeout sweep and pruning touch only
-- them (rows written before have run 0); the remote side's camera is judged too; a presence has a
-- start (`since` in the UI).
CREATE TABLE IF NOT EXISTS runs (
  id         INTEGER PRIMARY KEY,
  started_at REAL NOT NULL,
  source     TEXT
);
ALTER TABLE flows ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE flows ADD COLUMN presence_since REAL;
CREATE INDEX IF NOT EXISTS flows_run ON flows(run, ended);
ALTER TABLE windows ADD COLUMN run INTEGER NOT NULL DEFAULT 0;
ALTER TABLE flows ADD COLUMN remote_presence TEXT NOT NULL DEFAULT 'unknown';
ALTER TABLE flows ADD COLUMN remote_probability REAL;
ALTER TABLE flows ADD COLUMN remote_certainty REAL;
ALTER TABLE flows ADD COLUMN remote_since REAL;
ALTER TABLE windows ADD COLUMN remote_presence INTEGER;
ALTER TABLE windows ADD COLUMN remote_probability REAL;
