-- schema version 2: the window history becomes a rowid table with a unique (flow_id, start)
-- index. Rows carry ~1 KB of features; in the WITHOUT ROWID b-tree of version 1 each insert
-- rewrote several pages (3x slower). features becomes a JSON array of the values, in the order of
-- meta 'feature_names' (the names once per database, not once per row: rows a third the size).
-- New per-window columns: certainty and raw_probability.
CREATE TABLE windows_v2 (
  flow_id     TEXT NOT NULL,
  start       REAL NOT NULL,
  end         REAL NOT NULL,
  packets     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  bitrate     REAL NOT NULL,
  raw         INTEGER,
  presence    INTEGER,
  probability REAL,
  features    TEXT NOT NULL,
  certainty   REAL,
  raw_probability REAL,
  UNIQUE (flow_id, start)
);
INSERT INTO windows_v2 (flow_id, start, end, packets, bytes, bitrate, raw, presence, probability, features)
  SELECT flow_id, start, end, packets, bytes, bitrate, raw, presence, probability,
         (SELECT json_group_array(value) FROM json_each(windows.features)) FROM windows;
DROP TABLE windows;
ALTER TABLE windows_v2 RENAME TO windows;
