// ShareStore: the `shares` table (migration 0004). SQL that runs unchanged on SQLite and PostgreSQL.

import type { SqlExecutor } from '../store/meta/sql-driver.ts';

export interface ShareRecord {
  id: string;
  tokenHash: string;
  spaceId: string;
  fileId: string;
  /** Path of the entry when the link was made (shown to the owner; the link follows fileId). */
  path: string;
  kind: 'file' | 'dir';
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  passwordHash: string | null;
  maxDownloads: number | null;
  downloads: number;
}

interface Row {
  id: string;
  token_hash: string;
  space_id: string;
  file_id: string;
  path: string;
  kind: string;
  created_by: string;
  created_at: number | string;
  expires_at: number | string | null;
  password_hash: string | null;
  max_downloads: number | string | null;
  downloads: number | string;
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function fromRow(r: Row): ShareRecord {
  return {
    id: r.id,
    tokenHash: r.token_hash,
    spaceId: r.space_id,
    fileId: r.file_id,
    path: r.path,
    kind: r.kind === 'dir' ? 'dir' : 'file',
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    expiresAt: num(r.expires_at),
    passwordHash: r.password_hash,
    maxDownloads: num(r.max_downloads),
    downloads: Number(r.downloads),
  };
}

export class SqlShareStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async insert(s: ShareRecord): Promise<void> {
    await this.#db.run(
      'INSERT INTO shares (id, token_hash, space_id, file_id, path, kind, created_by, created_at, expires_at, password_hash, max_downloads, downloads) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [
        s.id,
        s.tokenHash,
        s.spaceId,
        s.fileId,
        s.path,
        s.kind,
        s.createdBy,
        s.createdAt,
        s.expiresAt,
        s.passwordHash,
        s.maxDownloads,
        s.downloads,
      ],
    );
  }

  async byTokenHash(tokenHash: string): Promise<ShareRecord | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM shares WHERE token_hash = ?', [tokenHash]);
    return r && fromRow(r);
  }

  async byId(id: string): Promise<ShareRecord | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM shares WHERE id = ?', [id]);
    return r && fromRow(r);
  }

  async listByCreator(userId: string): Promise<ShareRecord[]> {
    return (
      await this.#db.all<Row>('SELECT * FROM shares WHERE created_by = ? ORDER BY created_at DESC, id', [
        userId,
      ])
    ).map(fromRow);
  }

  async delete(id: string): Promise<boolean> {
    return (await this.#db.run('DELETE FROM shares WHERE id = ?', [id])).changes > 0;
  }

  /** Counts one download if the limit allows it, atomically; false when the limit is reached. */
  async countDownload(id: string): Promise<boolean> {
    const r = await this.#db.run(
      'UPDATE shares SET downloads = downloads + 1 WHERE id = ? AND (max_downloads IS NULL OR downloads < max_downloads)',
      [id],
    );
    return r.changes > 0;
  }
}
