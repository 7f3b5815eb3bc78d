-- schema version 7: each run's row says who it was and how it ended, so the history shows every
-- writer, not only the last one: the process and user, the model and window length, and when it
-- ended (NULL: still running, or killed) with its packets, drops (packets never processed, all
-- causes) and records stored.
ALTER TABLE runs ADD COLUMN pid INTEGER;
ALTER TABLE runs ADD COLUMN uid INTEGER;
ALTER TABLE runs ADD COLUMN model TEXT;
ALTER TABLE runs ADD COLUMN window_ms INTEGER;
ALTER TABLE runs ADD COLUMN ended_at REAL;
ALTER TABLE runs ADD COLUMN packets INTEGER;
ALTER TABLE runs ADD COLUMN drops INTEGER;
ALTER TABLE runs ADD COLUMN records INTEGER;
