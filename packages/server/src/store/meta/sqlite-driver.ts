// SqlDriver on node:sqlite (synchronous, one connection, WAL). A mutex serialises transactions so
// that statements of concurrent requests never land inside another request's transaction.
//
// Group commit: COMMIT runs with synchronous=NORMAL (the WAL is written, not fsynced, so the event
// loop never blocks on the disk), then transaction() waits for an fdatasync of the WAL on libuv's
// thread pool before it resolves. Commits that land while one fsync runs share the next, so an
// acknowledged transaction is as durable as with synchronous=FULL at a fraction of the fsyncs.
// Reads outside a transaction first wait for the commits made before them to be durable.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { open, type FileHandle } from 'node:fs/promises';
import {
  loadMigrations,
  type MigrateOptions,
  type SqlDriver,
  type SqlExecutor,
  type SqlValue,
} from './sql-driver.ts';
import { Mutex } from '../../util/mutex.ts';

export interface SqliteDriverOptions {
  /** Database file path, or ':memory:'. */
  path: string;
  /** fsync the WAL at every commit (FULL) so acknowledged writes survive power loss. Default true. */
  durable?: boolean;
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  /** Commits are fsynced before they are acknowledged (false: `durable: false` or in memory). */
  readonly durable: boolean;
  readonly #db: DatabaseSync;
  readonly #lock = new Mutex();
  readonly #statements = new Map<string, StatementSync>();
  readonly #exec: SqlExecutor;
  /** The WAL file to fdatasync after commits; undefined when commits need no fsync. */
  readonly #walPath: string | undefined;
  #wal: Promise<FileHandle> | undefined;
  #commits = 0;
  #synced = 0;
  #syncing: Promise<void> | undefined;

  constructor(options: SqliteDriverOptions) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    // NORMAL: SQLite does not fsync at COMMIT; #durable() does it off the event loop (see above).
    this.#db.exec('PRAGMA synchronous = NORMAL');
    const inMemory = options.path === ':memory:' || options.path === '';
    this.#walPath = options.durable === false || inMemory ? undefined : `${options.path}-wal`;
    this.durable = this.#walPath !== undefined;
    this.#db.exec('PRAGMA foreign_keys = ON');
    this.#db.exec('PRAGMA busy_timeout = 5000');
    this.#exec = {
      all: async (sql, params) => this.#stmt(sql).all(...bind(params)) as never,
      get: async (sql, params) => this.#stmt(sql).get(...bind(params)) as never,
      run: async (sql, params) => ({ changes: Number(this.#stmt(sql).run(...bind(params)).changes) }),
    };
  }

  #stmt(sql: string): StatementSync {
    let s = this.#statements.get(sql);
    if (!s) {
      s = this.#db.prepare(sql);
      this.#statements.set(sql, s);
    }
    return s;
  }

  // Outside a transaction, statements wait for any open transaction to finish first.
  async all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]> {
    if (this.#synced < this.#commits) await this.#durable();
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.all<T>(sql, params));
    return this.#exec.all<T>(sql, params);
  }
  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    if (this.#synced < this.#commits) await this.#durable();
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.get<T>(sql, params));
    return this.#exec.get<T>(sql, params);
  }
  #runNow(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.run(sql, params));
    return this.#exec.run(sql, params);
  }

  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    const r = await this.#runNow(sql, params);
    if (r.changes > 0 && this.#walPath) {
      this.#commits++; // an autocommit write: acknowledge it only once durable, as a transaction
      await this.#durable();
    }
    return r;
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const result = await this.#lock.run(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#exec);
        this.#db.exec('COMMIT');
        if (this.#walPath) this.#commits++;
        return result;
      } catch (e) {
        this.#db.exec('ROLLBACK');
        throw e;
      }
    });
    // Outside the lock, so the next transactions run (and join the next fsync) while this one waits.
    await this.#durable();
    return result;
  }

  /** Resolves once every commit made before the call is on disk: one fdatasync covers them all. */
  async #durable(): Promise<void> {
    const target = this.#commits;
    while (this.#synced < target) {
      this.#syncing ??= this.#syncWal().finally(() => (this.#syncing = undefined));
      await this.#syncing;
    }
  }

  async #syncWal(): Promise<void> {
    const upTo = this.#commits;
    this.#wal ??= open(this.#walPath!, 'r');
    const fh = await this.#wal.catch((e: unknown) => {
      this.#wal = undefined;
      throw e;
    });
    await fh.datasync();
    this.#synced = upTo;
  }

  async migrate(o: MigrateOptions = {}): Promise<void> {
    this.#db.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
    );
    const done = new Set(
      (this.#db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((r) =>
        Number(r.version),
      ),
    );
    for (const m of loadMigrations('sqlite')) {
      if (done.has(m.version)) continue;
      if (done.size > 0) o.onUpgrade?.(m);
      await this.transaction(async (tx) => {
        this.#db.exec(m.sql);
        await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          m.version,
          m.name,
          Date.now(),
        ]);
      });
    }
  }

  async close(): Promise<void> {
    await this.#durable().catch(() => undefined);
    await this.#wal?.then((fh) => fh.close()).catch(() => undefined);
    this.#wal = undefined;
    await this.#lock.run(async () => {
      if (this.#db.isOpen) {
        this.#db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
        this.#db.close();
      }
    });
  }
}

function bind(params: readonly SqlValue[] | undefined): SqlValue[] {
  return params ? (params as SqlValue[]) : [];
}
