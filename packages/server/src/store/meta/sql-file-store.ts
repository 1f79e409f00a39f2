// SQL store for the current tree of files (table files) and their history (table versions).

import type { SqlExecutor } from './sql-driver.ts';
import type { FileStore, ListOptions } from './meta-store.ts';
import type { EntryKind, FileEntry, Version } from './types.ts';
import { bool, num, numOrNull, strOrNull, uniquely } from './sql-util.ts';

type Row = Record<string, unknown>;

const toEntry = (r: Row): FileEntry => ({
  id: String(r.id),
  spaceId: String(r.space_id),
  path: String(r.path),
  kind: r.kind as EntryKind,
  size: num(r.size),
  contentHash: strOrNull(r.content_hash),
  manifestId: strOrNull(r.manifest_id),
  version: num(r.version),
  versionId: String(r.version_id),
  mtime: num(r.mtime),
  deleted: bool(r.deleted),
  deletedAt: numOrNull(r.deleted_at),
  updatedSeq: num(r.updated_seq),
});

const toVersion = (r: Row): Version => ({
  id: String(r.id),
  spaceId: String(r.space_id),
  fileId: String(r.file_id),
  seq: num(r.seq),
  version: num(r.version),
  path: String(r.path),
  prevPath: strOrNull(r.prev_path),
  kind: r.kind as EntryKind,
  size: num(r.size),
  contentHash: strOrNull(r.content_hash),
  manifestId: strOrNull(r.manifest_id),
  mtime: num(r.mtime),
  deviceId: strOrNull(r.device_id),
  baseVersionId: strOrNull(r.base_version_id),
  deleted: bool(r.deleted),
  opId: strOrNull(r.op_id),
  createdAt: num(r.created_at),
});

function parentOf(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export class SqlFileStore implements FileStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async byId(spaceId: string, id: string): Promise<FileEntry | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM files WHERE space_id = ? AND id = ?', [spaceId, id]);
    return r && toEntry(r);
  }
  async byPath(spaceId: string, path: string): Promise<FileEntry | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM files WHERE space_id = ? AND path = ? AND deleted = 0', [
      spaceId,
      path,
    ]);
    return r && toEntry(r);
  }
  async list(spaceId: string, dir: string, o: ListOptions): Promise<FileEntry[]> {
    const after = o.after ?? '';
    if (!o.recursive) {
      const rows = await this.#db.all<Row>(
        'SELECT * FROM files WHERE space_id = ? AND parent = ? AND deleted = 0 AND path > ? ORDER BY path LIMIT ?',
        [spaceId, dir, after, o.limit],
      );
      return rows.map(toEntry);
    }
    // Paths under dir are exactly those in the range [dir + '/', dir + '0'): '0' follows '/' in code order.
    const lo = dir === '/' ? '/' : dir + '/';
    const hi = dir === '/' ? '0' : dir + '0';
    const rows = await this.#db.all<Row>(
      'SELECT * FROM files WHERE space_id = ? AND deleted = 0 AND path >= ? AND path < ? AND path > ? ORDER BY path LIMIT ?',
      [spaceId, lo, hi, after, o.limit],
    );
    return rows.map(toEntry);
  }
  async search(spaceId: string, text: string, limit: number): Promise<FileEntry[]> {
    const pattern = '%' + text.toLowerCase().replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    const rows = await this.#db.all<Row>(
      "SELECT * FROM files WHERE space_id = ? AND deleted = 0 AND LOWER(path) LIKE ? ESCAPE '\\' ORDER BY path LIMIT ?",
      [spaceId, pattern, limit],
    );
    return rows.map(toEntry);
  }
  async deletedTogether(spaceId: string, dir: string, deletedAt: number): Promise<FileEntry[]> {
    const rows = await this.#db.all<Row>(
      'SELECT * FROM files WHERE space_id = ? AND deleted = 1 AND deleted_at = ? AND (path = ? OR (path >= ? AND path < ?)) ORDER BY path',
      [spaceId, deletedAt, dir, dir + '/', dir + '0'],
    );
    return rows.map(toEntry);
  }
  async trash(spaceId: string, o: { limit: number; olderThan?: number }): Promise<FileEntry[]> {
    const rows = await this.#db.all<Row>(
      'SELECT * FROM files WHERE space_id = ? AND deleted = 1 AND deleted_at < ? ORDER BY deleted_at DESC LIMIT ?',
      [spaceId, o.olderThan ?? Number.MAX_SAFE_INTEGER, o.limit],
    );
    return rows.map(toEntry);
  }
  async upsert(e: FileEntry): Promise<void> {
    await uniquely(`an entry at ${e.path}`, () =>
      this.#db.run(
        `INSERT INTO files (id, space_id, path, parent, kind, size, content_hash, manifest_id, version, version_id, mtime, deleted, deleted_at, updated_seq)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET path = excluded.path, parent = excluded.parent, kind = excluded.kind, size = excluded.size,
           content_hash = excluded.content_hash, manifest_id = excluded.manifest_id, version = excluded.version,
           version_id = excluded.version_id, mtime = excluded.mtime, deleted = excluded.deleted, deleted_at = excluded.deleted_at,
           updated_seq = excluded.updated_seq`,
        [
          e.id,
          e.spaceId,
          e.path,
          parentOf(e.path),
          e.kind,
          e.size,
          e.contentHash,
          e.manifestId,
          e.version,
          e.versionId,
          e.mtime,
          e.deleted ? 1 : 0,
          e.deletedAt,
          e.updatedSeq,
        ],
      ),
    );
  }
  async purge(spaceId: string, id: string): Promise<void> {
    await this.#db.run('DELETE FROM files WHERE space_id = ? AND id = ? AND deleted = 1', [spaceId, id]);
  }
  async addVersion(v: Version): Promise<void> {
    await this.#db.run(
      `INSERT INTO versions (id, space_id, file_id, seq, version, path, prev_path, kind, size, content_hash, manifest_id, mtime, device_id,
         base_version_id, deleted, op_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        v.id,
        v.spaceId,
        v.fileId,
        v.seq,
        v.version,
        v.path,
        v.prevPath,
        v.kind,
        v.size,
        v.contentHash,
        v.manifestId,
        v.mtime,
        v.deviceId,
        v.baseVersionId,
        v.deleted ? 1 : 0,
        v.opId,
        v.createdAt,
      ],
    );
  }
  async versions(fileId: string): Promise<Version[]> {
    return (
      await this.#db.all<Row>('SELECT * FROM versions WHERE file_id = ? ORDER BY version DESC', [fileId])
    ).map(toVersion);
  }
  async version(fileId: string, version: number): Promise<Version | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM versions WHERE file_id = ? AND version = ?', [
      fileId,
      version,
    ]);
    return r && toVersion(r);
  }
  async versionByOp(spaceId: string, opId: string): Promise<Version | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM versions WHERE space_id = ? AND op_id = ?', [
      spaceId,
      opId,
    ]);
    return r && toVersion(r);
  }
  async changes(spaceId: string, since: number, limit: number): Promise<Version[]> {
    const rows = await this.#db.all<Row>(
      'SELECT * FROM versions WHERE space_id = ? AND seq > ? ORDER BY seq LIMIT ?',
      [spaceId, since, limit],
    );
    return rows.map(toVersion);
  }
  async usageOf(userId: string): Promise<number> {
    const r = await this.#db.get<Row>(
      "SELECT COALESCE(SUM(f.size), 0) AS n FROM files f JOIN spaces s ON s.id = f.space_id WHERE s.owner_id = ? AND f.deleted = 0 AND f.kind = 'file'",
      [userId],
    );
    return num(r?.n ?? 0);
  }
  async logicalBytes(): Promise<number> {
    const r = await this.#db.get<Row>(
      "SELECT COALESCE(SUM(size), 0) AS n FROM files WHERE deleted = 0 AND kind = 'file'",
    );
    return num(r?.n ?? 0);
  }
}
