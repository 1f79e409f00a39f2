-- Share links: a public token (stored as its SHA-256) for one file or folder, with optional
-- expiry, password (scrypt) and download limit. The link follows the entry by id across renames.
CREATE TABLE shares (
  id TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL UNIQUE,
  space_id TEXT NOT NULL REFERENCES spaces(id),
  file_id TEXT NOT NULL,
  path TEXT NOT NULL,
  kind TEXT NOT NULL,
  created_by TEXT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  password_hash TEXT,
  max_downloads BIGINT,
  downloads BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX shares_created_by ON shares(created_by);
