// SqlMetaStore: the MetaStore over a SqlDriver (SQLite or PostgreSQL), and the factory that picks
// the driver from a database URL.

import type { MetaStore } from './meta-store.ts';
import type { MigrateOptions, SqlDriver, SqlExecutor } from './sql-driver.ts';
import { SqlDeviceStore, SqlTokenStore, SqlUserStore } from './sql-account-stores.ts';
import { SqlSpaceStore } from './sql-space-store.ts';
import { SqlFileStore } from './sql-file-store.ts';
import { SqlContentStore } from './sql-content-store.ts';
import { SqlSyncStore } from './sql-sync-store.ts';
import { SqlTelemetryStore } from './sql-telemetry-store.ts';

export class SqlMetaStore implements MetaStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly users: SqlUserStore;
  readonly devices: SqlDeviceStore;
  readonly tokens: SqlTokenStore;
  readonly spaces: SqlSpaceStore;
  readonly files: SqlFileStore;
  readonly content: SqlContentStore;
  readonly sync: SqlSyncStore;
  readonly telemetry: SqlTelemetryStore;
  readonly #driver: SqlDriver;
  readonly #inTransaction: boolean;

  constructor(driver: SqlDriver, exec: SqlExecutor = driver, inTransaction = false) {
    this.#driver = driver;
    this.#inTransaction = inTransaction;
    this.dialect = driver.dialect;
    this.users = new SqlUserStore(exec);
    this.devices = new SqlDeviceStore(exec);
    this.tokens = new SqlTokenStore(exec);
    this.spaces = new SqlSpaceStore(exec);
    this.files = new SqlFileStore(exec);
    this.content = new SqlContentStore(exec);
    this.sync = new SqlSyncStore(exec);
    this.telemetry = new SqlTelemetryStore(exec, driver.dialect);
  }

  /** The driver, for stores of later features that keep their own tables. */
  get driver(): SqlDriver {
    return this.#driver;
  }

  async transaction<T>(fn: (tx: MetaStore) => Promise<T>): Promise<T> {
    if (this.#inTransaction) return fn(this); // nested: join the outer transaction
    return this.#driver.transaction((exec) => fn(new SqlMetaStore(this.#driver, exec, true)));
  }

  async close(): Promise<void> {
    await this.#driver.close();
  }
}

/** Opens the MetaStore for a database URL: `postgres://…` or a SQLite file path (`:memory:` too). */
export async function openMetaStore(
  url: string,
  options: { durable?: boolean } & MigrateOptions = {},
): Promise<SqlMetaStore> {
  let driver: SqlDriver;
  if (/^postgres(ql)?:\/\//.test(url)) {
    const { PgDriver } = await import('./pg-driver.ts');
    driver = new PgDriver(url);
  } else {
    const { SqliteDriver } = await import('./sqlite-driver.ts');
    driver = new SqliteDriver({ path: url.replace(/^sqlite:(\/\/)?/, ''), durable: options.durable });
  }
  await driver.migrate({ onUpgrade: options.onUpgrade });
  return new SqlMetaStore(driver);
}
