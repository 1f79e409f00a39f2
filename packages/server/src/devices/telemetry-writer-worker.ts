// The telemetry writer thread (see telemetry-writer.ts): its own SQLite connection to the server's
// database, one transaction per batch, one batch at a time, in the order they arrive. Blocking
// calls are fine here: this thread serves nothing else.

import { parentPort, workerData } from 'node:worker_threads';
import { DatabaseSync, type StatementSync } from 'node:sqlite';
import type { SqlExecutor, SqlValue } from '../store/meta/sql-driver.ts';
import { SqlTelemetryStore } from '../store/meta/sql-telemetry-store.ts';
import { packOutcomes, unpackBatch } from './packed-events.ts';
import type { WriterReply, WriterRequest } from './telemetry-writer.ts';

const o = workerData as { path: string; durable: boolean; cacheKib: number };
const db = new DatabaseSync(o.path);
db.exec('PRAGMA journal_mode = WAL');
db.exec(`PRAGMA synchronous = ${o.durable ? 'FULL' : 'NORMAL'}`);
db.exec('PRAGMA foreign_keys = ON');
db.exec('PRAGMA busy_timeout = 10000');
db.exec(`PRAGMA cache_size = -${Math.max(2000, Math.floor(o.cacheKib))}`);

const statements = new Map<string, StatementSync>();
const stmt = (sql: string) => {
  let s = statements.get(sql);
  if (!s) statements.set(sql, (s = db.prepare(sql)));
  return s;
};
const args = (p: readonly SqlValue[] | undefined) => (p ?? []) as SqlValue[];
const exec: SqlExecutor = {
  all: async (sql, p) => stmt(sql).all(...args(p)) as never,
  get: async (sql, p) => stmt(sql).get(...args(p)) as never,
  run: async (sql, p) => ({ changes: Number(stmt(sql).run(...args(p)).changes) }),
};
const store = new SqlTelemetryStore(exec);

const port = parentPort!;
const reply = (m: WriterReply) => port.postMessage(m);
let chain = Promise.resolve();
port.on('message', (m: WriterRequest) => {
  chain = chain.then(async () => {
    if ('close' in m) {
      // The main connection checkpoints and truncates the WAL when it closes, after this.
      db.close();
      return reply({ id: m.id, closed: true });
    }
    try {
      if ('prune' in m)
        return reply({ id: m.id, pruned: await store.prune(m.prune.olderThan, m.prune.limit) });
      db.exec('BEGIN IMMEDIATE');
      let outcomes;
      try {
        outcomes = await store.record(unpackBatch(m.batch));
        db.exec('COMMIT');
      } catch (e) {
        if (db.isTransaction) db.exec('ROLLBACK');
        throw e;
      }
      const packed = packOutcomes(outcomes);
      port.postMessage({ id: m.id, outcomes: packed } satisfies WriterReply, [
        packed.nums.buffer as ArrayBuffer,
      ]);
    } catch (e) {
      const err = e as { message?: string; code?: string };
      reply({ id: m.id, error: { message: String(err.message ?? e), code: err.code } });
    }
  });
});
