-- Sync protocol: who may see which chunk (dedup is global, visibility is not), commit results by
-- opId (idempotent retries), device cursors (sync status), and the change-feed retention horizon.
CREATE TABLE user_chunks (
  user_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (user_id, hash)
);

CREATE TABLE space_chunks (
  space_id TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (space_id, hash)
);
CREATE INDEX space_chunks_hash ON space_chunks(hash);
-- How far space_chunks has indexed each space's versions (any writer's manifests are picked up).
CREATE TABLE space_chunk_index (
  space_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL
);

CREATE TABLE sync_ops (
  space_id TEXT NOT NULL,
  op_id TEXT NOT NULL,
  result TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  PRIMARY KEY (space_id, op_id)
);

CREATE TABLE sync_cursors (
  device_id TEXT NOT NULL,
  space_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (device_id, space_id)
);

-- Versions with seq <= min_seq may have been pruned: a cursor below it must resync.
ALTER TABLE spaces ADD COLUMN min_seq INTEGER NOT NULL DEFAULT 0;

CREATE INDEX versions_manifest ON versions(space_id, manifest_id);
