// The per-root state database (DIR/.ferry/state.db, node:sqlite in WAL mode): the synced tree, the
// mirrored remote tree, the scan cache, the durable outbox, placeholders and queued sync events.
// Every multi-row update runs in one transaction, so a crash leaves either the old or the new state.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { Entry, LocalEntry, RemoteEntry, SyncedEntry } from './tree-types.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS synced (
  path TEXT PRIMARY KEY, file_id TEXT, version_id TEXT, kind TEXT NOT NULL, size INTEGER NOT NULL,
  mtime INTEGER NOT NULL, ino INTEGER, content_hash TEXT, manifest_id TEXT, refs BLOB);
CREATE TABLE IF NOT EXISTS remote (
  path TEXT PRIMARY KEY, file_id TEXT NOT NULL, version_id TEXT NOT NULL, kind TEXT NOT NULL,
  size INTEGER NOT NULL, mtime INTEGER NOT NULL, content_hash TEXT, manifest_id TEXT, device_id TEXT);
CREATE TABLE IF NOT EXISTS scan_cache (
  path TEXT PRIMARY KEY, kind TEXT NOT NULL, size INTEGER NOT NULL, mtime INTEGER NOT NULL, ino INTEGER,
  stamp TEXT NOT NULL, content_hash TEXT, manifest_id TEXT, refs BLOB);
CREATE TABLE IF NOT EXISTS outbox (
  op_id TEXT PRIMARY KEY, path TEXT NOT NULL, sig TEXT NOT NULL, change TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS placeholders (
  path TEXT PRIMARY KEY, size INTEGER NOT NULL, mtime INTEGER NOT NULL, ino INTEGER, content_hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sync_events (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, created_at INTEGER NOT NULL);
`;

export interface OutboxRow {
  opId: string;
  path: string;
  sig: string;
  change: string;
  createdAt: number;
}

export interface PlaceholderRow {
  path: string;
  size: number;
  mtime: number;
  ino: number | null;
  contentHash: string;
}

type Row = Record<string, unknown>;

function toEntry(r: Row): Entry {
  return {
    path: r.path as string,
    kind: r.kind as 'file' | 'dir',
    size: Number(r.size),
    mtime: Number(r.mtime),
    contentHash: (r.content_hash as string | null) ?? null,
    manifestId: (r.manifest_id as string | null) ?? null,
  };
}

const refsOf = (r: Row) => (r.refs ? new Uint8Array(r.refs as Uint8Array) : null);

export class StateDb {
  readonly db: DatabaseSync;
  readonly #stmts = new Map<string, StatementSync>();

  constructor(file: string) {
    this.db = new DatabaseSync(file);
    this.db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 5000;');
    // A checkpoint (which fsyncs the database) every 1,000 WAL pages was one per ~150 files of a
    // download pass, 0.7 s of 5,000 small files; every 16,000 pages (64 MiB of WAL) it is a few.
    this.db.exec('PRAGMA wal_autocheckpoint = 16000;');
    this.db.exec(SCHEMA);
  }

  close(): void {
    this.db.close();
  }

  #q(sql: string): StatementSync {
    let s = this.#stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.#stmts.set(sql, s);
    }
    return s;
  }

  /** Runs fn in one IMMEDIATE transaction. */
  tx<T>(fn: () => T): T {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      const r = fn();
      this.db.exec('COMMIT');
      return r;
    } catch (e) {
      this.db.exec('ROLLBACK');
      throw e;
    }
  }

  getMeta(key: string): string | null {
    const r = this.#q('SELECT value FROM meta WHERE key = ?').get(key) as Row | undefined;
    return r ? (r.value as string) : null;
  }

  setMeta(key: string, value: string | number): void {
    this.#q(
      'INSERT INTO meta(key, value) VALUES(?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value',
    ).run(key, String(value));
  }

  // --- synced tree ---------------------------------------------------------------------------
  synced(): Map<string, SyncedEntry> {
    const out = new Map<string, SyncedEntry>();
    for (const r of this.#q('SELECT * FROM synced').all() as Row[]) {
      out.set(r.path as string, {
        ...toEntry(r),
        fileId: (r.file_id as string | null) ?? null,
        versionId: (r.version_id as string | null) ?? null,
        ino: r.ino === null ? null : Number(r.ino),
        refs: refsOf(r),
      });
    }
    return out;
  }

  putSynced(e: SyncedEntry): void {
    this.#q(
      `INSERT OR REPLACE INTO synced(path, file_id, version_id, kind, size, mtime, ino, content_hash, manifest_id, refs)
       VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.path, e.fileId, e.versionId, e.kind, e.size, e.mtime, e.ino, e.contentHash, e.manifestId, e.refs);
  }

  deleteSynced(path: string): void {
    this.#q('DELETE FROM synced WHERE path = ?').run(path);
  }

  syncedCount(): number {
    return Number((this.#q("SELECT count(*) AS n FROM synced WHERE kind = 'file'").get() as Row).n);
  }

  // --- remote tree ---------------------------------------------------------------------------
  remote(): Map<string, RemoteEntry> {
    const out = new Map<string, RemoteEntry>();
    for (const r of this.#q('SELECT * FROM remote').all() as Row[]) {
      out.set(r.path as string, {
        ...toEntry(r),
        fileId: r.file_id as string,
        versionId: r.version_id as string,
        deviceId: (r.device_id as string | null) ?? null,
      });
    }
    return out;
  }

  putRemote(e: RemoteEntry): void {
    this.#q(
      `INSERT OR REPLACE INTO remote(path, file_id, version_id, kind, size, mtime, content_hash, manifest_id, device_id)
       VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.path, e.fileId, e.versionId, e.kind, e.size, e.mtime, e.contentHash, e.manifestId, e.deviceId);
  }

  deleteRemote(path: string): void {
    this.#q('DELETE FROM remote WHERE path = ?').run(path);
  }

  deleteRemoteByFileId(fileId: string): void {
    this.#q('DELETE FROM remote WHERE file_id = ?').run(fileId);
  }

  clearRemote(): void {
    this.#q('DELETE FROM remote').run();
  }

  // --- scan cache ----------------------------------------------------------------------------
  scanCache(): Map<string, LocalEntry> {
    const out = new Map<string, LocalEntry>();
    for (const r of this.#q('SELECT * FROM scan_cache').all() as Row[]) {
      out.set(r.path as string, {
        ...toEntry(r),
        ino: r.ino === null ? null : Number(r.ino),
        refs: refsOf(r),
        diskPath: r.path as string,
        stamp: r.stamp as string,
      });
    }
    return out;
  }

  putScanCache(e: LocalEntry): void {
    this.#q(
      `INSERT OR REPLACE INTO scan_cache(path, kind, size, mtime, ino, stamp, content_hash, manifest_id, refs) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(e.path, e.kind, e.size, e.mtime, e.ino, e.stamp ?? '', e.contentHash, e.manifestId, e.refs);
  }

  deleteScanCache(path: string): void {
    this.#q('DELETE FROM scan_cache WHERE path = ?').run(path);
  }

  // --- outbox --------------------------------------------------------------------------------
  outbox(): OutboxRow[] {
    return (this.#q('SELECT * FROM outbox ORDER BY created_at, op_id').all() as Row[]).map((r) => ({
      opId: r.op_id as string,
      path: r.path as string,
      sig: r.sig as string,
      change: r.change as string,
      createdAt: Number(r.created_at),
    }));
  }

  putOutbox(row: OutboxRow): void {
    this.#q('INSERT OR REPLACE INTO outbox(op_id, path, sig, change, created_at) VALUES(?, ?, ?, ?, ?)').run(
      row.opId,
      row.path,
      row.sig,
      row.change,
      row.createdAt,
    );
  }

  deleteOutbox(opId: string): void {
    this.#q('DELETE FROM outbox WHERE op_id = ?').run(opId);
  }

  // --- placeholders --------------------------------------------------------------------------
  placeholders(): Map<string, PlaceholderRow> {
    const out = new Map<string, PlaceholderRow>();
    for (const r of this.#q('SELECT * FROM placeholders').all() as Row[]) {
      out.set(r.path as string, {
        path: r.path as string,
        size: Number(r.size),
        mtime: Number(r.mtime),
        ino: r.ino === null ? null : Number(r.ino),
        contentHash: r.content_hash as string,
      });
    }
    return out;
  }

  putPlaceholder(p: PlaceholderRow): void {
    this.#q(
      'INSERT OR REPLACE INTO placeholders(path, size, mtime, ino, content_hash) VALUES(?, ?, ?, ?, ?)',
    ).run(p.path, p.size, p.mtime, p.ino, p.contentHash);
  }

  deletePlaceholder(path: string): void {
    this.#q('DELETE FROM placeholders WHERE path = ?').run(path);
  }

  // --- sync events ---------------------------------------------------------------------------
  queueEvent(body: object): void {
    this.#q('INSERT INTO sync_events(body, created_at) VALUES(?, ?)').run(JSON.stringify(body), Date.now());
    // Bounded: a device offline for months keeps its newest 1,000 reports.
    this.#q('DELETE FROM sync_events WHERE id <= (SELECT max(id) FROM sync_events) - 1000').run();
  }

  pendingEvents(limit = 100): { id: number; body: Record<string, unknown> }[] {
    return (this.#q('SELECT id, body FROM sync_events ORDER BY id LIMIT ?').all(limit) as Row[]).map((r) => ({
      id: Number(r.id),
      body: JSON.parse(r.body as string) as Record<string, unknown>,
    }));
  }

  deleteEvents(maxId: number): void {
    this.#q('DELETE FROM sync_events WHERE id <= ?').run(maxId);
  }
}
