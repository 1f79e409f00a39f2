// Where group-committed sync events are written. With SQLite on a file under load, a worker thread
// owns its own connection to the same database and runs each batch's transaction there: node:sqlite
// is synchronous, so a big batch's commit on the main thread (a WAL checkpoint, the page reads of a
// batch) would stall every HTTP request meanwhile. Until the first big batch (WORKER_FROM), and
// always with PostgreSQL (asynchronous already) or an in-memory SQLite database (which another
// connection cannot open), batches run in-process.
//
// Why the same file and not a separate telemetry.db: device_sync_state references devices, the
// batch updates devices.consecutive_failures (where it changed) in the same transaction as the
// events, and repeated-failures joins devices for names and owners. A second file would lose that
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
import type { BatchOutcome } from '../store/meta/sql-telemetry-store.ts';
import {
  unpackOutcomes,
  type PackedBatch,
  type PackedOutcomes,
  type SyncEventBatch,
} from './packed-events.ts';

export interface TelemetryWriter {
  /** Most events per batch worth sending it. */
  readonly maxBatch: number;
  /** Writes one batch in one transaction; resolves once it is committed. */
  record(batch: SyncEventBatch): Promise<BatchOutcome[]>;
  /** TelemetryStore.prune, where the batches are written (a 10,000-row DELETE is no quick thing). */
  prune(olderThan: number, limit: number): Promise<number>;
  /** Bytes of the V8 heap the writer runs in when it has one of its own (a worker thread). */
  heapBytes?(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** Runs each batch in a transaction of the MetaStore itself. */
export class InlineTelemetryWriter implements TelemetryWriter {
  readonly maxBatch = 5000;
  readonly #meta: MetaStore;
  constructor(meta: MetaStore) {
    this.#meta = meta;
  }
  record(batch: SyncEventBatch): Promise<BatchOutcome[]> {
    const events = batch.records();
    return this.#meta.transaction((tx) => tx.telemetry.record(events));
  }
  prune(olderThan: number, limit: number): Promise<number> {
    return this.#meta.telemetry.prune(olderThan, limit);
  }
  async close(): Promise<void> {}
}

// The worker's entry file: beside this module in the sources, or beside the bundle (build-cli.ts).
const WORKER_ENTRY = new URL(
  import.meta.url.endsWith('.ts') ? './telemetry-writer-worker.ts' : './telemetry-writer-worker.mjs',
  import.meta.url,
);

/** Messages between WorkerTelemetryWriter and telemetry-writer-worker.ts. */
export type WriterRequest =
  | { id: number; batch: PackedBatch }
  | { id: number; prune: { olderThan: number; limit: number } }
  | { id: number; close: true };
export type WriterReply =
  | { id: number; outcomes: PackedOutcomes }
  | { id: number; pruned: number }
  | { id: number; error: { message: string; code?: string } }
  | { id: number; closed: true };

export interface WorkerWriterOptions {
  /** The SQLite database file (already migrated). */
  path: string;
  /** synchronous=FULL (default) or NORMAL for the worker's connection. */
  durable?: boolean;
  /**
   * The worker connection's page cache in KiB. Default 8192: 32 MiB spent a fifth of the server's
   * RSS budget under fleet load for ~10% less writer CPU; 16 MiB against 8 MiB kept the peak RSS of
   * the 10k/s open loop ~30 MB higher (219 against 187–191 MB) for a CPU difference within the noise (docs/decisions.md).
   */
  cacheKib?: number;
}

const WORKER_MAX_BATCH = 10_000;

/** Runs each batch in a worker thread with its own SQLite connection. */
export class WorkerTelemetryWriter implements TelemetryWriter {
  /**
   * A batch's cost is mostly the pages it dirties: the state rows and event-index leaves of random
   * devices, written to the WAL and checkpointed back. Bigger batches dirty each page for more
   * events (measured on 10M events, 100k devices: 5,000-event batches ~3,400 events/s, 20,000
   * ~5,000-6,400/s), but hold SQLite's write lock longer, during which a metadata write of the
   * main thread waits. 10,000 is the compromise.
   */
  readonly maxBatch = WORKER_MAX_BATCH;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (r: WriterReply) => void; reject: (e: Error) => void }>();
  #next = 1;
  #dead: Error | undefined;

  constructor(o: WorkerWriterOptions) {
    this.#worker = new Worker(WORKER_ENTRY, {
      workerData: { path: o.path, durable: o.durable ?? true, cacheKib: o.cacheKib ?? 8192 },
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

  /** The worker's reply; an error reply rejects, with the error's message and code. */
  async #call(msg: Omit<WriterRequest, 'id'>, transfer: ArrayBuffer[] = []): Promise<WriterReply> {
    if (this.#dead) throw this.#dead;
    const id = this.#next++;
    const r = await new Promise<WriterReply>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...msg, id }, transfer);
    });
    if ('error' in r) throw Object.assign(new Error(r.error.message), { code: r.error.code });
    return r;
  }

  async record(batch: SyncEventBatch): Promise<BatchOutcome[]> {
    const packed = batch.pack();
    const r = await this.#call({ batch: packed.batch }, packed.transfer);
    if (!('outcomes' in r)) throw new Error('unexpected reply from the telemetry writer');
    return unpackOutcomes(r.outcomes);
  }

  async prune(olderThan: number, limit: number): Promise<number> {
    const r = await this.#call({ prune: { olderThan, limit } });
    if (!('pruned' in r)) throw new Error('unexpected reply from the telemetry writer');
    return r.pruned;
  }

  async heapBytes(): Promise<number | undefined> {
    if (this.#dead) return undefined;
    return (await this.#worker.getHeapStatistics()).total_heap_size;
  }

  async close(): Promise<void> {
    if (this.#dead) return;
    await this.#call({ close: true });
    await this.#worker.terminate();
  }
}

/**
 * Batches of at least this many events start the writer thread (a SQLite file only). Below it
 * the ingest queue is keeping up with batches of a few events, which commit in well under a millisecond (0.38 ms median for a one-event batch, fsync included, in a probe)
 * on the main thread (the fsync waits on the thread pool), and the thread's own V8 heap and SQLite
 * page cache would cost a home server 9–12 MiB of RSS for nothing (docs/decisions.md). Events
 * arriving faster than that pile up while a batch commits, so the batches grow past it soon after.
 */
const WORKER_FROM = 64;

/**
 * The writer for a MetaStore. For SQLite on a file: in-process until a batch of WORKER_FROM
 * events arrives, then a worker thread for good (its database file is asked of SQLite itself,
 * PRAGMA database_list). In-process always for PostgreSQL and in-memory SQLite. The ingest queue
 * commits one batch at a time, so the switch never reorders batches.
 */
export function telemetryWriterFor(meta: MetaStore, o: { workerFrom?: number } = {}): TelemetryWriter {
  const driver = (meta as { driver?: SqlDriver & { durable?: boolean } }).driver;
  if (driver?.dialect !== 'sqlite') return new InlineTelemetryWriter(meta);
  const workerFrom = o.workerFrom ?? WORKER_FROM;
  const inline = new InlineTelemetryWriter(meta);
  let writer: Promise<TelemetryWriter> | undefined;
  const worker = () =>
    (writer ??= driver.all<{ name: string; file: string }>('PRAGMA database_list').then((rows) => {
      const file = rows.find((r) => r.name === 'main')?.file;
      // The writer thread commits as durably as the main connection does.
      return file ? new WorkerTelemetryWriter({ path: file, durable: driver.durable !== false }) : inline;
    }));
  return {
    maxBatch: WORKER_MAX_BATCH, // in-memory databases (tests) get the same, in-process
    record: async (batch) => (writer || batch.length >= workerFrom ? await worker() : inline).record(batch),
    prune: async (olderThan, limit) => (writer ? await writer : inline).prune(olderThan, limit),
    heapBytes: async () => (writer ? (await writer).heapBytes?.() : undefined),
    close: async () => {
      if (writer) await (await writer).close();
    },
  };
}
