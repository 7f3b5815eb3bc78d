-- spymate's PostgreSQL store (spymate-tui --store postgres://...), schema version 4: many sensors
-- (capture hosts) write here, the one view reads. SQLite's schema is db/schema.sql; the columns of
-- flows and windows are the same records, with a `sensor` column in front and PostgreSQL types.
-- Created (and, for later versions, migrated by db/postgres/migrations/NNN_*.sql) by
-- src/store/pg/migrate.ts under an advisory lock, so sensors starting together do it once.
-- Times are UNIX epoch seconds (double precision) of the sensor's pipeline clock: the wall clock
-- when capturing live, the packet time when replaying a trace. reported_at and started_at are the
-- server's own clock, so that "last report" needs no synchronised sensor clocks.

CREATE TABLE spymate_schema (
  version integer NOT NULL
);

-- One row per sensor (--sensor NAME, default the host name): what SQLite keeps in `meta`.
CREATE TABLE sensors (
  sensor          text PRIMARY KEY,
  source          text NOT NULL,             -- 'iface:eth0' | 'file:/path' | 'records:/path'
  model           text NOT NULL,
  window_ms       integer NOT NULL,
  timeout_s       double precision NOT NULL,
  keep_s          double precision NOT NULL, -- the view shows an ended flow this long after its end
  feature_names   text[] NOT NULL,           -- the names of windows.features, in order
  monitor_start   double precision,          -- epoch of the start of monitoring
  clock           double precision,          -- the sensor's pipeline clock at its last report
  packets         bigint NOT NULL DEFAULT 0,
  drops           bigint NOT NULL DEFAULT 0,
  pps             double precision NOT NULL DEFAULT 0,
  flows           bigint NOT NULL DEFAULT 0,
  calls           bigint NOT NULL DEFAULT 0,
  windows         bigint NOT NULL DEFAULT 0,
  records_per_s   double precision NOT NULL DEFAULT 0,
  replay_position double precision,          -- 0..1 through the trace; NULL live
  max_start       double precision,          -- latest windows.start this sensor has stored
  queued          bigint NOT NULL DEFAULT 0, -- records waiting in the sensor's queue at its last report
  dropped         bigint NOT NULL DEFAULT 0, -- records the sensor dropped in this run (queue budget exceeded)
  state           text NOT NULL,             -- running | stopped
  started_at      timestamptz NOT NULL,
  reported_at     timestamptz NOT NULL
);

-- One row per call flow per sensor; the sensor upserts its current state, and an older state
-- (a restarted sensor replaying what it had already stored) never overwrites a newer one.
CREATE TABLE flows (
  sensor         text NOT NULL,
  flow_id        text NOT NULL,             -- the flowID of the NDJSON records
  app            text NOT NULL,
  src_ip         text NOT NULL,
  src_port       integer NOT NULL,
  des_ip         text NOT NULL,
  des_port       integer NOT NULL,
  protocol       text NOT NULL,
  first_ts       double precision NOT NULL, -- first packet
  last_ts        double precision NOT NULL, -- last packet
  media_ts       double precision,          -- start of the first media window (ringTime = media_ts - first_ts)
  packets        bigint NOT NULL,
  bytes          bigint NOT NULL,
  bitrate        double precision NOT NULL, -- bit/s over the last window
  windows        integer NOT NULL,
  person_windows integer NOT NULL,
  presence       text NOT NULL,             -- person | background | camera-off | unknown
  probability    double precision,          -- P(person) of the final (smoothed, causal) prediction
  certainty      double precision,          -- confidence in `presence`, 0..100
  timeout_at     double precision NOT NULL, -- sensor clock at which the record times out
  ended          boolean NOT NULL,
  end_reason     text,                      -- fin | rst | media-stop | timeout | evicted | end-of-trace
  ended_at       double precision,
  updated_at     double precision NOT NULL, -- pipeline time of the latest record in this state
  call_certainty double precision,          -- how sure the pick as a call is, 0..1: 1 for a rule (v2)
  call_reason    text,                      -- why it is a call: rule file:line, or the call classifier's score (v2)
  presence_since double precision,          -- start of the first window of the current presence run (v3)
  -- the remote side's camera, judged from what the local side receives (v3): as presence,
  -- probability, certainty, presence_since
  remote_presence    text NOT NULL DEFAULT 'unknown',
  remote_probability double precision,
  remote_certainty   double precision,
  remote_since       double precision,
  PRIMARY KEY (sensor, flow_id)
) WITH (fillfactor = 50); -- room on each page: a flow's row, rewritten at every flush, stays on its page without new index entries (HOT) (v4)
-- the view reads live flows and recently ended ones, not the history
CREATE INDEX flows_live ON flows (sensor) WHERE NOT ended;
CREATE INDEX flows_ended ON flows (sensor, ended_at) WHERE ended;

-- Window history: one row per (sensor, flow, window start), inserted once (a replayed window
-- replaces itself). Kept until the operator removes it (docs/many-hosts.md: partitions by time).
CREATE TABLE windows (
  sensor          text NOT NULL,
  flow_id         text NOT NULL,
  start           double precision NOT NULL,
  "end"           double precision NOT NULL,
  packets         integer NOT NULL,
  bytes           bigint NOT NULL,
  bitrate         double precision NOT NULL,
  raw             smallint,                 -- bare per-window classifier: 1 person, 0 background
  presence        text NOT NULL,            -- final causal prediction: person | background | camera-off | unknown
  probability     double precision,         -- P(person) of the final prediction
  certainty       double precision,         -- confidence in `presence`, 0..100
  raw_probability double precision,         -- P(person) of the bare per-window classifier
  features        bytea NOT NULL,           -- float64 little-endian values, in the order of sensors.feature_names; NaN = no value (v4)
  remote_presence text NOT NULL DEFAULT 'unknown', -- the remote side's camera: final prediction (v3)
  remote_probability double precision,      -- and its P(person) (v3)
  PRIMARY KEY (sensor, flow_id, start)
);

-- windows.features as double precision[] (v4): features are stored as SQLite stores them, float64
-- little-endian bytes, which cost the server and the sensor a third less than an array per row;
-- this reads them back for SQL: spymate_features(features)[array_position(feature_names, 'size_mean')].
CREATE FUNCTION spymate_float8le(b bytea, at integer) RETURNS double precision LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT CASE
    WHEN e = 2047 AND m <> 0 THEN 'NaN'::double precision
    WHEN e = 2047 THEN s * 'Infinity'::double precision
    WHEN e = 0 THEN s * (m * power(2::double precision, -1074))
    ELSE s * ((1 + m * power(2::double precision, -52)) * power(2::double precision, e - 1023))
  END
  FROM (SELECT (bits >> 52) & 2047 AS e, bits & 4503599627370495 AS m, CASE WHEN bits < 0 THEN -1 ELSE 1 END AS s
        FROM (SELECT get_byte(b, at)::bigint | (get_byte(b, at + 1)::bigint << 8) | (get_byte(b, at + 2)::bigint << 16)
                | (get_byte(b, at + 3)::bigint << 24) | (get_byte(b, at + 4)::bigint << 32) | (get_byte(b, at + 5)::bigint << 40)
                | (get_byte(b, at + 6)::bigint << 48) | (get_byte(b, at + 7)::bigint << 56) AS bits) AS raw) AS parts
$$;
CREATE FUNCTION spymate_features(b bytea) RETURNS double precision[] LANGUAGE sql IMMUTABLE STRICT AS $$
  SELECT coalesce(array_agg(spymate_float8le(b, i * 8) ORDER BY i), '{}')
  FROM generate_series(0, length(b) / 8 - 1) AS i
$$;

-- The display filter's IPv4 test: an address (or ::ffff:-mapped one) as a 32-bit number, else NULL.
CREATE FUNCTION spymate_v4(ip text) RETURNS bigint LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN ip ~ '^[0-9]{1,3}(\.[0-9]{1,3}){3}$' THEN ip::inet - '0.0.0.0'::inet
    WHEN lower(ip) ~ '^::ffff:[0-9]{1,3}(\.[0-9]{1,3}){3}$' THEN substr(ip, 8)::inet - '0.0.0.0'::inet
  END
$$;
