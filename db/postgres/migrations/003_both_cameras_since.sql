-- schema version 3: the remote side's camera and since when each camera's presence has been what
-- it is, as SQLite's flows and windows have them from schema 6 on (docs/design.md, Database).
-- presence_since / remote_since: start of the first window of the current presence run. Older
-- rows keep NULL, and 'unknown' for the remote camera.
ALTER TABLE flows ADD COLUMN presence_since double precision;
ALTER TABLE flows ADD COLUMN remote_presence text NOT NULL DEFAULT 'unknown';
ALTER TABLE flows ADD COLUMN remote_probability double precision;
ALTER TABLE flows ADD COLUMN remote_certainty double precision;
ALTER TABLE flows ADD COLUMN remote_since double precision;
ALTER TABLE windows ADD COLUMN remote_presence text NOT NULL DEFAULT 'unknown';
ALTER TABLE windows ADD COLUMN remote_probability double precision;
