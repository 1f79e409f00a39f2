// The seam between SqlMetaStore and a database: parameterised SQL with `?` placeholders, rows as
// plain objects, and transactions. SQLite and PostgreSQL each implement it; the SQL is portable.

export type SqlValue = string | number | bigint | null | Uint8Array;
export type SqlRow = Record<string, unknown>;

export interface SqlExecutor {
  /** All rows of a query. */
  all<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  /** The first row of a query, or undefined. */
  get<T = SqlRow>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement; `changes` is the number of rows it touched. */
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
}

export interface SqlDriver extends SqlExecutor {
  readonly dialect: 'sqlite' | 'postgres';
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws (the
   * error is rethrown). Statements of other callers never interleave with it.
   */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Applies the numbered migrations of this dialect that have not run yet. */
  migrate(o?: MigrateOptions): Promise<void>;
  close(): Promise<void>;
}

export interface MigrateOptions {
  /**
   * Called before each migration applied to a database that already had some (an upgrade, where a
   * data migration may take a while), not for the ones that create a new database.
   */
  onUpgrade?: (m: Migration) => void;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Reads `migrations/<dialect>/NNNN-name.sql`, ordered by number. */
export function loadMigrations(dialect: 'sqlite' | 'postgres'): Migration[] {
  const dir = join(import.meta.dirname, 'migrations', dialect);
  return readdirSync(dir)
    .filter((f) => /^\d{4}-.+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.slice(5, -4),
      sql: readFileSync(join(dir, f), 'utf8'),
    }));
}
