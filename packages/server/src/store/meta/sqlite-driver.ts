// SqlDriver on node:sqlite (synchronous, one connection, WAL). A mutex serialises transactions so
// that statements of concurrent requests never land inside another request's transaction.

import { DatabaseSync, type StatementSync } from 'node:sqlite';
import { loadMigrations, type SqlDriver, type SqlExecutor, type SqlValue } from './sql-driver.ts';
import { Mutex } from '../../util/mutex.ts';

export interface SqliteDriverOptions {
  /** Database file path, or ':memory:'. */
  path: string;
  /** fsync the WAL at every commit (FULL) so acknowledged writes survive power loss. Default true. */
  durable?: boolean;
}

export class SqliteDriver implements SqlDriver {
  readonly dialect = 'sqlite' as const;
  readonly #db: DatabaseSync;
  readonly #lock = new Mutex();
  readonly #statements = new Map<string, StatementSync>();
  readonly #exec: SqlExecutor;

  constructor(options: SqliteDriverOptions) {
    this.#db = new DatabaseSync(options.path);
    this.#db.exec('PRAGMA journal_mode = WAL');
    this.#db.exec(`PRAGMA synchronous = ${options.durable === false ? 'NORMAL' : 'FULL'}`);
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
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.all<T>(sql, params));
    return this.#exec.all<T>(sql, params);
  }
  async get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined> {
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.get<T>(sql, params));
    return this.#exec.get<T>(sql, params);
  }
  async run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }> {
    if (this.#lock.locked) return this.#lock.run(() => this.#exec.run(sql, params));
    return this.#exec.run(sql, params);
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.#lock.run(async () => {
      this.#db.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.#exec);
        this.#db.exec('COMMIT');
        return result;
      } catch (e) {
        this.#db.exec('ROLLBACK');
        throw e;
      }
    });
  }

  async migrate(): Promise<void> {
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
