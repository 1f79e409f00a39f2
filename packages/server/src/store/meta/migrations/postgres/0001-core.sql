-- Users, devices, tokens, spaces, files, versions, manifests, chunks: the foundation's data model.
CREATE TABLE users (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL,
  quota_bytes BIGINT,
  created_at BIGINT NOT NULL
);

CREATE TABLE devices (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  last_seen_at BIGINT,
  revoked_at BIGINT,
  consecutive_failures BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX devices_user ON devices(user_id);

CREATE TABLE refresh_tokens (
  token_hash TEXT PRIMARY KEY,
  device_id TEXT NOT NULL REFERENCES devices(id),
  family_id TEXT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT,
  revoked_at BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

CREATE TABLE spaces (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  owner_id TEXT NOT NULL REFERENCES users(id),
  encrypted BIGINT NOT NULL DEFAULT 0,
  head_seq BIGINT NOT NULL DEFAULT 0,
  is_default BIGINT NOT NULL DEFAULT 0,
  created_at BIGINT NOT NULL,
  UNIQUE (owner_id, name)
);

CREATE TABLE space_members (
  space_id TEXT NOT NULL REFERENCES spaces(id),
  user_id TEXT NOT NULL REFERENCES users(id),
  role TEXT NOT NULL,
  PRIMARY KEY (space_id, user_id)
);
CREATE INDEX space_members_user ON space_members(user_id);

CREATE TABLE manifests (
  id TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  chunk_count BIGINT NOT NULL,
  chunks BYTEA NOT NULL
);

CREATE TABLE chunks (
  hash TEXT PRIMARY KEY,
  size BIGINT NOT NULL,
  stored_size BIGINT NOT NULL,
  created_at BIGINT NOT NULL
);

-- The current state of every file and folder; deleted rows are the trash.
CREATE TABLE files (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  path TEXT NOT NULL,
  parent TEXT NOT NULL,
  kind TEXT NOT NULL,
  size BIGINT NOT NULL,
  content_hash TEXT,
  manifest_id TEXT,
  version BIGINT NOT NULL,
  version_id TEXT NOT NULL,
  mtime BIGINT NOT NULL,
  deleted BIGINT NOT NULL DEFAULT 0,
  deleted_at BIGINT,
  updated_seq BIGINT NOT NULL
);
CREATE UNIQUE INDEX files_live_path ON files(space_id, path) WHERE deleted = 0;
CREATE INDEX files_parent ON files(space_id, parent, deleted);
CREATE INDEX files_trash ON files(space_id, deleted, deleted_at);

-- Every change to a file is a version; seq orders a space's changes (the change feed).
CREATE TABLE versions (
  id TEXT PRIMARY KEY,
  space_id TEXT NOT NULL,
  file_id TEXT NOT NULL,
  seq BIGINT NOT NULL,
  version BIGINT NOT NULL,
  path TEXT NOT NULL,
  prev_path TEXT,
  kind TEXT NOT NULL,
  size BIGINT NOT NULL,
  content_hash TEXT,
  manifest_id TEXT,
  mtime BIGINT NOT NULL,
  device_id TEXT,
  base_version_id TEXT,
  deleted BIGINT NOT NULL DEFAULT 0,
  op_id TEXT,
  created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX versions_seq ON versions(space_id, seq);
CREATE INDEX versions_file ON versions(file_id, version);
CREATE UNIQUE INDEX versions_op ON versions(space_id, op_id) WHERE op_id IS NOT NULL;
