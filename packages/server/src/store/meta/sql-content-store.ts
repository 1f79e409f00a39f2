// SQL store for manifests (a file's chunk list) and the record of stored chunks.

import type { SqlExecutor } from './sql-driver.ts';
import type { ContentStore } from './meta-store.ts';
import type { ChunkRecord, ChunkRef, Manifest } from './types.ts';
import { num, runs } from './sql-util.ts';

type Row = Record<string, unknown>;

/** A chunk list rests as 36 bytes per chunk: the raw SHA-256, then the length (uint32 BE). */
export function packChunkRefs(chunks: ChunkRef[]): Uint8Array {
  const out = Buffer.allocUnsafe(chunks.length * 36);
  chunks.forEach((c, i) => {
    out.write(c.hash, i * 36, 32, 'hex');
    out.writeUInt32BE(c.size, i * 36 + 32);
  });
  return out;
}

export function unpackChunkRefs(bytes: Uint8Array): ChunkRef[] {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: ChunkRef[] = [];
  for (let i = 0; i + 36 <= buf.length; i += 36)
    out.push({ hash: buf.toString('hex', i, i + 32), size: buf.readUInt32BE(i + 32) });
  return out;
}

export class SqlContentStore implements ContentStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async putManifests(ms: readonly Manifest[]): Promise<void> {
    for (const batch of runs(ms)) {
      await this.#db.run(
        `INSERT INTO manifests (id, size, chunk_count, chunks) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT (id) DO NOTHING`,
        batch.flatMap((m) => [m.id, m.size, m.chunkCount, packChunkRefs(m.chunks)]),
      );
    }
  }
  async manifest(id: string): Promise<Manifest | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM manifests WHERE id = ?', [id]);
    if (!r) return undefined;
    return {
      id: String(r.id),
      size: num(r.size),
      chunkCount: num(r.chunk_count),
      chunks: unpackChunkRefs(r.chunks as Uint8Array),
    };
  }
  async recordChunks(chunks: ChunkRecord[]): Promise<void> {
    const now = Date.now();
    for (const batch of runs(chunks)) {
      await this.#db.run(
        `INSERT INTO chunks (hash, size, stored_size, created_at) VALUES ${batch.map(() => '(?, ?, ?, ?)').join(', ')} ON CONFLICT (hash) DO NOTHING`,
        batch.flatMap((c) => [c.hash, c.size, c.storedSize, now]),
      );
    }
  }
  async missingChunks(hashes: string[]): Promise<string[]> {
    const unique = [...new Set(hashes)];
    const have = new Set<string>();
    for (const batch of runs(unique)) {
      const rows = await this.#db.all<Row>(
        `SELECT hash FROM chunks WHERE hash IN (${batch.map(() => '?').join(',')})`,
        batch,
      );
      for (const r of rows) have.add(String(r.hash));
    }
    return unique.filter((h) => !have.has(h));
  }
  async stats(): Promise<{ chunks: number; storedBytes: number; logicalChunkBytes: number }> {
    const r = await this.#db.get<Row>(
      'SELECT COUNT(*) AS n, COALESCE(SUM(stored_size), 0) AS s, COALESCE(SUM(size), 0) AS l FROM chunks',
    );
    return { chunks: num(r?.n ?? 0), storedBytes: num(r?.s ?? 0), logicalChunkBytes: num(r?.l ?? 0) };
  }
}
