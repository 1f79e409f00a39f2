-- Fleet telemetry: sync events, each device's sync state (kept up to date incrementally by every
-- ingest batch, so "which devices keep failing" never scans events), and fleet ingest tokens.

-- One row per device that has reported. dev_no is a compact key for sync_events (an integer instead
-- of a 36-character id in every event row and index entry).
CREATE TABLE device_sync_state (
  dev_no INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL UNIQUE REFERENCES devices(id),
  last_at INTEGER NOT NULL,
  last_status TEXT NOT NULL,
  last_files INTEGER NOT NULL,
  last_errors INTEGER NOT NULL,
  last_speed REAL,
  last_duration_ms INTEGER,
  last_error_message TEXT,
  last_success_at INTEGER,
  last_failure_at INTEGER,
  last_failure_message TEXT,
  consecutive_failures INTEGER NOT NULL,
  events INTEGER NOT NULL,
  ok_events INTEGER NOT NULL,
  speed_sum REAL NOT NULL,
  speed_count INTEGER NOT NULL,
  duration_sum INTEGER NOT NULL,
  duration_count INTEGER NOT NULL,
  bytes_up INTEGER NOT NULL,
  bytes_down INTEGER NOT NULL,
  files_total INTEGER NOT NULL
);
CREATE INDEX device_sync_state_failing ON device_sync_state(consecutive_failures, device_id);

CREATE TABLE sync_events (
  id INTEGER PRIMARY KEY,
  dev_no INTEGER NOT NULL,
  at INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL,
  files INTEGER NOT NULL,
  errors INTEGER NOT NULL,
  speed REAL,
  duration_ms INTEGER,
  bytes_up INTEGER,
  bytes_down INTEGER,
  error_message TEXT
);
CREATE INDEX sync_events_device ON sync_events(dev_no, at, id);
CREATE INDEX sync_events_at ON sync_events(at);

CREATE TABLE ingest_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL UNIQUE,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at INTEGER NOT NULL,
  last_used_at INTEGER,
  revoked_at INTEGER
);
