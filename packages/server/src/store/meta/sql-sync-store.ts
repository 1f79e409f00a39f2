// SQL store for the sync protocol's own tables: chunk visibility per user and per space, commit
// results by opId, device cursors, and the change feed's retention horizon (spaces.min_seq).

import type { SqlExecutor } from './sql-driver.ts';
import type { SyncStore } from './meta-store.ts';
import { num, runs } from './sql-util.ts';

type Row = Record<string, unknown>;

export class SqlSyncStore implements SyncStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async #link(
    table: 'user_chunks' | 'space_chunks',
    column: 'user_id' | 'space_id',
    owner: string,
    hashes: readonly string[],
  ): Promise<void> {
    for (const batch of runs([...new Set(hashes)])) {
      await this.#db.run(
        `INSERT INTO ${table} (${column}, hash) VALUES ${batch.map(() => '(?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
        batch.flatMap((h) => [owner, h]),
      );
    }
  }
  addUserChunks(userId: string, hashes: readonly string[]): Promise<void> {
    return this.#link('user_chunks', 'user_id', userId, hashes);
  }
  addSpaceChunks(spaceId: string, hashes: readonly string[]): Promise<void> {
    return this.#link('space_chunks', 'space_id', spaceId, hashes);
  }
  async chunkIndexSeq(spaceId: string): Promise<number> {
    const r = await this.#db.get<Row>('SELECT seq FROM space_chunk_index WHERE space_id = ?', [spaceId]);
    return num(r?.seq ?? 0);
  }
  async setChunkIndexSeq(spaceId: string, seq: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO space_chunk_index (space_id, seq) VALUES (?, ?)
       ON CONFLICT (space_id) DO UPDATE SET seq = excluded.seq WHERE excluded.seq > space_chunk_index.seq`,
      [spaceId, seq],
    );
  }
  async manifestsSince(
    spaceId: string,
    since: number,
    limit: number,
  ): Promise<{ manifestId: string; seq: number }[]> {
    const rows = await this.#db.all<Row>(
      'SELECT manifest_id, seq FROM versions WHERE space_id = ? AND seq > ? AND manifest_id IS NOT NULL ORDER BY seq LIMIT ?',
      [spaceId, since, limit],
    );
    return rows.map((r) => ({ manifestId: String(r.manifest_id), seq: num(r.seq) }));
  }
  async visibleChunks(userId: string, hashes: readonly string[]): Promise<Map<string, number>> {
    const found = new Map<string, number>();
    for (const batch of runs([...new Set(hashes)])) {
      const marks = batch.map(() => '?').join(',');
      const rows = await this.#db.all<Row>(
        `SELECT c.hash, c.size FROM chunks c WHERE c.hash IN (${marks}) AND (
           EXISTS (SELECT 1 FROM user_chunks u WHERE u.user_id = ? AND u.hash = c.hash)
           OR EXISTS (SELECT 1 FROM space_members m JOIN space_chunks s ON s.space_id = m.space_id AND s.hash = c.hash WHERE m.user_id = ?))`,
        [...batch, userId, userId],
      );
      for (const r of rows) found.set(String(r.hash), num(r.size));
    }
    return found;
  }
  async opResults(spaceId: string, opIds: readonly string[]): Promise<Map<string, unknown>> {
    const found = new Map<string, unknown>();
    for (const batch of runs([...new Set(opIds)])) {
      const rows = await this.#db.all<Row>(
        `SELECT op_id, result FROM sync_ops WHERE space_id = ? AND op_id IN (${batch.map(() => '?').join(',')})`,
        [spaceId, ...batch],
      );
      for (const r of rows) found.set(String(r.op_id), JSON.parse(String(r.result)));
    }
    return found;
  }
  async saveOpResults(
    spaceId: string,
    results: readonly { opId: string; result: unknown }[],
    at: number,
  ): Promise<void> {
    for (const batch of runs(results)) {
      await this.#db.run(
        `INSERT INTO sync_ops (space_id, op_id, result, created_at) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT DO NOTHING`,
        batch.flatMap((r) => [spaceId, r.opId, JSON.stringify(r.result), at]),
      );
    }
  }
  async versionRef(
    spaceId: string,
    versionId: string,
  ): Promise<{ fileId: string; version: number } | undefined> {
    const r = await this.#db.get<Row>('SELECT file_id, version FROM versions WHERE space_id = ? AND id = ?', [
      spaceId,
      versionId,
    ]);
    return r && { fileId: String(r.file_id), version: num(r.version) };
  }
  async manifestInSpace(spaceId: string, manifestId: string): Promise<boolean> {
    return !!(await this.#db.get<Row>(
      'SELECT 1 AS x FROM versions WHERE space_id = ? AND manifest_id = ? LIMIT 1',
      [spaceId, manifestId],
    ));
  }
  async minSeq(spaceId: string): Promise<number> {
    const r = await this.#db.get<Row>('SELECT min_seq FROM spaces WHERE id = ?', [spaceId]);
    return num(r?.min_seq ?? 0);
  }
  async setMinSeq(spaceId: string, seq: number): Promise<void> {
    await this.#db.run('UPDATE spaces SET min_seq = ? WHERE id = ? AND min_seq < ?', [seq, spaceId, seq]);
  }
  async lockSpace(spaceId: string): Promise<void> {
    // A no-op write: PostgreSQL holds the row lock to the end of the transaction; SQLite's
    // BEGIN IMMEDIATE already serialises writers.
    await this.#db.run('UPDATE spaces SET min_seq = min_seq WHERE id = ?', [spaceId]);
  }
  async setCursor(deviceId: string, spaceId: string, seq: number, at: number): Promise<void> {
    await this.#db.run(
      `INSERT INTO sync_cursors (device_id, space_id, seq, updated_at) VALUES (?, ?, ?, ?)
       ON CONFLICT (device_id, space_id) DO UPDATE SET seq = excluded.seq, updated_at = excluded.updated_at`,
      [deviceId, spaceId, seq, at],
    );
  }
  async cursors(deviceId: string): Promise<{ spaceId: string; seq: number; updatedAt: number }[]> {
    const rows = await this.#db.all<Row>(
      'SELECT space_id, seq, updated_at FROM sync_cursors WHERE device_id = ?',
      [deviceId],
    );
    return rows.map((r) => ({ spaceId: String(r.space_id), seq: num(r.seq), updatedAt: num(r.updated_at) }));
  }
}
