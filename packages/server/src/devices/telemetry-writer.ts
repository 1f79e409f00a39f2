// Where group-committed sync events are written. With SQLite on a file, a worker thread owns its own
// connection to the same database and runs each batch's transaction there: node:sqlite is
// synchronous, so a commit on the main thread (the fsync, a WAL checkpoint, the page reads of a
// batch) would stall every HTTP request meanwhile. With PostgreSQL (asynchronous already) or an
// in-memory SQLite database (which another connection cannot open) batches run in-process.
//
// Why the same file and not a separate telemetry.db: device_sync_state references devices, the
// batch updates devices.consecutive_failures/last_seen_at in the same transaction as the events,
// and repeated-failures joins devices for names and owners. A second file would lose that
// atomicity and the foreign key. The cost is that the two connections share SQLite's one write
// lock: a batch waits (busy_timeout, in the worker, off the main thread) for a metadata
// transaction, and a metadata transaction may wait for one batch (milliseconds). WAL checkpoints
// mostly run in the worker too, since it is what commits most pages.
//
// Durability: the worker's connection commits with synchronous=FULL like the main one (the WAL is
// fsynced at every batch), so a batch that `record` resolved for survives power loss.

import { Worker } from 'node:worker_threads';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { SqlDriver } from '../store/meta/sql-driver.ts';
import type { BatchOutcome, SyncEventRecord } from '../store/meta/sql-telemetry-store.ts';

export interface TelemetryWriter {
  /** Writes one batch in one transaction; resolves once it is committed. */
  record(batch: SyncEventRecord[]): Promise<BatchOutcome[]>;
  close(): Promise<void>;
}

/** Runs each batch in a transaction of the MetaStore itself. */
export class InlineTelemetryWriter implements TelemetryWriter {
  readonly #meta: MetaStore;
  constructor(meta: MetaStore) {
    this.#meta = meta;
  }
  record(batch: SyncEventRecord[]): Promise<BatchOutcome[]> {
    return this.#meta.transaction((tx) => tx.telemetry.record(batch));
  }
  async close(): Promise<void> {}
}

/** Messages between WorkerTelemetryWriter and telemetry-writer-worker.ts. */
export type WriterRequest = { id: number; batch: SyncEventRecord[] } | { id: number; close: true };
export type WriterReply =
  | { id: number; outcomes: BatchOutcome[] }
  | { id: number; error: { message: string; code?: string } }
  | { id: number; closed: true };

export interface WorkerWriterOptions {
  /** The SQLite database file (already migrated). */
  path: string;
  /** synchronous=FULL (default) or NORMAL for the worker's connection. */
  durable?: boolean;
  /** The worker connection's page cache in KiB. Default 16384. */
  cacheKib?: number;
}

/** Runs each batch in a worker thread with its own SQLite connection. */
export class WorkerTelemetryWriter implements TelemetryWriter {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | undefined;

  constructor(o: WorkerWriterOptions) {
    this.#worker = new Worker(new URL('./telemetry-writer-worker.ts', import.meta.url), {
      workerData: { path: o.path, durable: o.durable ?? true, cacheKib: o.cacheKib ?? 16384 },
      // Its heap holds one batch at a time; a small young generation keeps its RSS small too.
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 },
      stdout: false,
      stderr: false,
    });
    this.#worker.on('message', (m: WriterReply) => {
      const p = this.#pending.get(m.id);
      this.#pending.delete(m.id);
      p?.resolve(m);
    });
    const fail = (e: Error) => {
      this.#dead = e;
      for (const p of this.#pending.values()) p.reject(e);
      this.#pending.clear();
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) => fail(new Error(`the telemetry writer thread exited (${code})`)));
  }

  #call(msg: Omit<WriterRequest, 'id'>): Promise<WriterReply> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id });
    });
  }

  async record(batch: SyncEventRecord[]): Promise<BatchOutcome[]> {
    const r = await this.#call({ batch });
    if ('error' in r) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    if (!('outcomes' in r)) throw new Error('unexpected reply from the telemetry writer');
    return r.outcomes;
  }

  async close(): Promise<void> {
    if (this.#dead) return;
    await this.#call({ close: true });
    await this.#worker.terminate();
  }
}

/**
 * The writer for a MetaStore: a worker thread for SQLite on a file, else in-process. The database
 * file is asked of SQLite itself (PRAGMA database_list) at the first batch.
 */
export function telemetryWriterFor(meta: MetaStore): TelemetryWriter {
  const driver = (meta as { driver?: SqlDriver }).driver;
  if (driver?.dialect !== 'sqlite') return new InlineTelemetryWriter(meta);
  let writer: Promise<TelemetryWriter> | undefined;
  const get = () =>
    (writer ??= driver.all<{ name: string; file: string }>('PRAGMA database_list').then((rows) => {
      const file = rows.find((r) => r.name === 'main')?.file;
      return file ? new WorkerTelemetryWriter({ path: file }) : new InlineTelemetryWriter(meta);
    }));
  return {
    record: async (batch) => (await get()).record(batch),
    close: async () => {
      if (writer) await (await writer).close();
    },
  };
}
