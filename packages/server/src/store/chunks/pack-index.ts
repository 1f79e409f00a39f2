// The index of a PackChunkStore: chunk hash → (pack, offset, sizes, flags) in a node:sqlite
// database inside the chunk directory. It is a cache of what the packs say: the packs are fsynced
// before the index is written, and opening the store re-indexes every record past a pack's
// `indexed_end`, so the index runs with synchronous=NORMAL and needs no fsync of its own.

import { DatabaseSync, type StatementSync } from 'node:sqlite';

export interface ChunkLocation {
  pack: number;
  /** Offset of the record's body in the pack. */
  pos: number;
  size: number;
  storedSize: number;
  flags: number;
}

export interface IndexEntry extends ChunkLocation {
  hash: Buffer;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS packs (
  id INTEGER PRIMARY KEY,
  indexed_end INTEGER NOT NULL,  -- every record before this offset is indexed (or was deleted)
  dead_bytes INTEGER NOT NULL DEFAULT 0  -- bytes of deleted records, for a future compaction
);
CREATE TABLE IF NOT EXISTS chunks (
  hash BLOB PRIMARY KEY,
  pack INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  size INTEGER NOT NULL,
  stored_size INTEGER NOT NULL,
  flags INTEGER NOT NULL
) WITHOUT ROWID;
`;

export class PackIndex {
  readonly #db: DatabaseSync;
  readonly #lookup: StatementSync;
  readonly #insert: StatementSync;
  readonly #remove: StatementSync;
  readonly #addDead: StatementSync;
  readonly #setEnd: StatementSync;
  readonly #page: StatementSync;

  constructor(path: string) {
    this.#db = new DatabaseSync(path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec('PRAGMA synchronous = NORMAL');
    this.#db.exec('PRAGMA cache_size = -2048'); // 2 MiB: lookups are by primary key
    this.#db.exec(SCHEMA);
    this.#lookup = this.#db.prepare(
      'SELECT pack, pos, size, stored_size AS storedSize, flags FROM chunks WHERE hash = ?',
    );
    this.#insert = this.#db.prepare(
      'INSERT OR IGNORE INTO chunks (hash, pack, pos, size, stored_size, flags) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#remove = this.#db.prepare('DELETE FROM chunks WHERE hash = ? RETURNING pack, stored_size');
    this.#addDead = this.#db.prepare('UPDATE packs SET dead_bytes = dead_bytes + ? WHERE id = ?');
    this.#setEnd = this.#db.prepare(
      'INSERT INTO packs (id, indexed_end) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET indexed_end = MAX(indexed_end, excluded.indexed_end)',
    );
    this.#page = this.#db.prepare('SELECT hash FROM chunks WHERE hash > ? ORDER BY hash LIMIT ?');
  }

  get(hash: Buffer): ChunkLocation | undefined {
    return this.#lookup.get(hash) as ChunkLocation | undefined;
  }

  /** Records entries and advances their pack's indexed end, in one transaction. */
  add(entries: readonly IndexEntry[], pack: number, indexedEnd: number): void {
    this.#db.exec('BEGIN IMMEDIATE');
    try {
      for (const e of entries) this.#insert.run(e.hash, e.pack, e.pos, e.size, e.storedSize, e.flags);
      this.#setEnd.run(pack, indexedEnd);
      this.#db.exec('COMMIT');
    } catch (e) {
      this.#db.exec('ROLLBACK');
      throw e;
    }
  }

  remove(hash: Buffer): void {
    const r = this.#remove.get(hash) as { pack: number; stored_size: number } | undefined;
    if (r) this.#addDead.run(r.stored_size, r.pack);
  }

  /** The offset up to which the pack is indexed; undefined for a pack the index has never seen. */
  indexedEnd(pack: number): number | undefined {
    const r = this.#db.prepare('SELECT indexed_end AS e FROM packs WHERE id = ?').get(pack) as
      { e: number } | undefined;
    return r?.e;
  }

  /** Hashes in order, `limit` at a time after `after`. */
  page(after: Buffer, limit: number): Buffer[] {
    return (this.#page.all(after, limit) as { hash: Uint8Array }[]).map((r) => Buffer.from(r.hash));
  }

  close(): void {
    if (!this.#db.isOpen) return;
    this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
    this.#db.close();
  }
}
