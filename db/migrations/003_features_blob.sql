-- schema version 3: windows.features becomes a BLOB of IEEE-754 float64 values, little-endian,
-- in the order of meta 'feature_names' (NaN where a feature has no value). Binding a ~400-character
-- JSON text per window was a third of the filter thread's SQLite time; bytes are bound as they are.
-- Read them with e.g. Python: struct.unpack(f'<{len(b)//8}d', b). features_blob() converts the
-- JSON arrays of version 2; spymate registers it for the upgrade.
CREATE TABLE windows_v3 (
  flow_id     TEXT NOT NULL,
  start       REAL NOT NULL,
  end         REAL NOT NULL,
  packets     INTEGER NOT NULL,
  bytes       INTEGER NOT NULL,
  bitrate     REAL NOT NULL,
  raw         INTEGER,
  presence    INTEGER,
  probability REAL,
  features    BLOB NOT NULL,
  certainty   REAL,
  raw_probability REAL,
  UNIQUE (flow_id, start)
);
INSERT INTO windows_v3 (flow_id, start, end, packets, bytes, bitrate, raw, presence, probability, features, certainty, raw_probability)
  SELECT flow_id, start, end, packets, bytes, bitrate, raw, presence, probability, features_blob(features), certainty, raw_probability
  FROM windows ORDER BY rowid;
DROP TABLE windows;
ALTER TABLE windows_v3 RENAME TO windows;
