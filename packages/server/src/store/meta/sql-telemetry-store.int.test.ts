// SqlTelemetryStore against real SQLite (temp dir) and PostgreSQL (when FERRY_TEST_DATABASE_URL is
// set), and batches written by the SQLite writer thread: the streak rule across batches, stale
// batches, history paging, failing devices, pruning; and the migration that chains stored events.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetaStore, type SqlMetaStore } from './sql-meta-store.ts';
import type { BatchOutcome, SyncEventRecord, SyncStatus } from './sql-telemetry-store.ts';
import { WorkerTelemetryWriter, telemetryWriterFor } from '../../devices/telemetry-writer.ts';
import { SyncEventBatch } from '../../devices/packed-events.ts';
import { PG_SKIP, createTestDatabase } from '../../testing/pg-test-db.ts';
import { DatabaseSync } from 'node:sqlite';
import { loadMigrations } from './sql-driver.ts';

const T0 = Date.UTC(2025, 0, 1);

function ev(
  deviceId: string,
  at: number,
  status: SyncStatus,
  extra: Partial<SyncEventRecord> = {},
): SyncEventRecord {
  const failed = status !== 'ok';
  return {
    deviceId,
    at,
    receivedAt: at,
    status,
    files: 3,
    errors: failed ? 1 : 0,
    speed: 10,
    durationMs: 100,
    bytesUp: 5,
    bytesDown: 7,
    errorMessage: failed ? `boom at ${at}` : null,
    ...extra,
  };
}

function suite(
  name: string,
  open: () => Promise<{
    meta: SqlMetaStore;
    done: () => Promise<void>;
    /** How batches are written and pruned; default a MetaStore transaction and meta.telemetry. */
    record?: (events: SyncEventRecord[]) => Promise<BatchOutcome[]>;
    prune?: (olderThan: number, limit: number) => Promise<number>;
  }>,
  skip: string | false = false,
) {
  void describe(`SqlTelemetryStore (${name})`, { skip }, () => {
    let meta: SqlMetaStore;
    let done: () => Promise<void>;
    let record = (events: SyncEventRecord[]) => meta.transaction((tx) => tx.telemetry.record(events));
    let prune = (olderThan: number, limit: number) => meta.telemetry.prune(olderThan, limit);

    before(async () => {
      let r: typeof record | undefined;
      let p: typeof prune | undefined;
      ({ meta, done, record: r, prune: p } = await open());
      if (r) record = r;
      if (p) prune = p;
      await meta.users.create({ id: 'u1', username: 'u1', passwordHash: 'x', role: 'user' });
      await meta.users.create({ id: 'u2', username: 'u2', passwordHash: 'x', role: 'user' });
      for (const d of ['a', 'b', 'c', 'd'])
        await meta.devices.create({ id: d, userId: 'u1', name: `dev ${d}`, kind: 'other' });
      await meta.devices.create({ id: 'z', userId: 'u2', name: 'dev z', kind: 'other' });
    });
    after(async () => done());

    void it('extends the streak across batches and resets it on a success', async () => {
      let [o] = await record([ev('a', T0 + 1, 'failed'), ev('a', T0 + 2, 'failed')]);
      assert.deepEqual([o.consecutiveFailures, o.tail, o.reset, o.stale], [2, 2, false, false]);
      [o] = await record([ev('a', T0 + 3, 'partial')]);
      assert.equal(o.consecutiveFailures, 3);
      // Out of order inside one batch: sorted by time, so the success is last and resets.
      [o] = await record([ev('a', T0 + 5, 'ok'), ev('a', T0 + 4, 'failed')]);
      assert.deepEqual([o.consecutiveFailures, o.reset], [0, true]);
      [o] = await record([ev('a', T0 + 6, 'failed'), ev('a', T0 + 7, 'ok'), ev('a', T0 + 8, 'failed')]);
      assert.deepEqual([o.consecutiveFailures, o.tail, o.reset], [1, 1, true]);
      const [s] = await meta.telemetry.states(['a']);
      assert.equal(s.lastAt, T0 + 8);
      assert.equal(s.lastStatus, 'failed');
      assert.equal(s.lastSuccessAt, T0 + 7);
      assert.equal(s.lastFailureAt, T0 + 8);
      assert.equal(s.lastFailureMessage, `boom at ${T0 + 8}`);
      assert.equal(s.events, 8);
      assert.equal(s.okEvents, 2);
      assert.equal(s.bytesUp, 40);
      assert.equal((await meta.devices.byId('a'))!.consecutiveFailures, 1);
    });

    void it('a batch older than the latest event adds history only', async () => {
      const [o] = await record([ev('a', T0 - 10, 'failed'), ev('a', T0 - 9, 'failed')]);
      assert.deepEqual([o.stale, o.consecutiveFailures], [true, 1]);
      const [s] = await meta.telemetry.states(['a']);
      assert.equal(s.lastAt, T0 + 8);
      assert.equal(s.events, 10);
      const h = await meta.telemetry.history('a', { limit: 100 });
      assert.equal(h.length, 10);
      assert.equal(h.at(-1)!.at, T0 - 10);
    });

    void it('sorts a late batch into the history by time, ties after the recorded event', async () => {
      await record([ev('d', T0 + 10, 'ok'), ev('d', T0 + 20, 'ok'), ev('d', T0 + 30, 'failed')]);
      await record([
        ev('d', T0 + 25, 'failed'),
        ev('d', T0 + 5, 'ok'),
        ev('d', T0 + 20, 'failed'),
        ev('d', T0 + 40, 'ok'),
      ]);
      const h = await meta.telemetry.history('d', { limit: 100 });
      assert.deepEqual(
        h.map((e) => [e.at, e.status]),
        [
          [T0 + 40, 'ok'],
          [T0 + 30, 'failed'],
          [T0 + 25, 'failed'],
          [T0 + 20, 'failed'],
          [T0 + 20, 'ok'],
          [T0 + 10, 'ok'],
          [T0 + 5, 'ok'],
        ],
      );
      // Paging walks the same order.
      const p1 = await meta.telemetry.history('d', { limit: 3 });
      const p2 = await meta.telemetry.history('d', { limit: 10, before: p1[2].id });
      assert.deepEqual(
        [...p1, ...p2].map((e) => e.id),
        h.map((e) => e.id),
      );
      const [s] = await meta.telemetry.states(['d']);
      assert.equal(s.lastEventId, h[0].id);
      // Another device's event id as a cursor reveals nothing.
      assert.deepEqual(await meta.telemetry.history('b', { limit: 10, before: p1[2].id }), []);
    });

    void it('pages history newest first with an event id cursor', async () => {
      await record([ev('b', T0 + 1, 'ok'), ev('b', T0 + 1, 'failed'), ev('b', T0 + 2, 'ok')]);
      const all = await meta.telemetry.history('b', { limit: 10 });
      assert.deepEqual(
        all.map((e) => e.at),
        [T0 + 2, T0 + 1, T0 + 1],
      );
      assert.ok(all[1].id > all[2].id);
      const p1 = await meta.telemetry.history('b', { limit: 2 });
      const p2 = await meta.telemetry.history('b', { limit: 2, before: p1[1].id });
      assert.deepEqual(
        [...p1, ...p2].map((e) => e.id),
        all.map((e) => e.id),
      );
      assert.deepEqual(await meta.telemetry.history('nope', { limit: 5 }), []);
    });

    void it('lists failing devices by streak, optionally for one user', async () => {
      await record([1, 2, 3, 4].map((i) => ev('c', T0 + i, 'failed')));
      await record([1, 2, 3, 4, 5].map((i) => ev('z', T0 + i, 'failed')));
      const all = await meta.telemetry.failing({ min: 4, limit: 10, offset: 0 });
      assert.deepEqual(
        all.map((d) => [d.deviceId, d.consecutiveFailures, d.userId]),
        [
          ['z', 5, 'u2'],
          ['c', 4, 'u1'],
        ],
      );
      const mine = await meta.telemetry.failing({ min: 4, userId: 'u1', limit: 10, offset: 0 });
      assert.deepEqual(
        mine.map((d) => d.deviceId),
        ['c'],
      );
      assert.equal(await meta.telemetry.countFailing(3), 2);
    });

    void it('prunes old events in bounded steps', async () => {
      const before = (await meta.telemetry.history('a', { limit: 100 })).length;
      assert.equal(await prune(T0, 1), 1);
      assert.equal(await prune(T0, 100), 1);
      assert.equal(await prune(T0, 100), 0);
      assert.equal((await meta.telemetry.history('a', { limit: 100 })).length, before - 2);
    });

    void it('pages the devices that have reported, without revoked ones', async () => {
      await meta.devices.revoke('z', Date.now());
      const p1 = await meta.telemetry.reportingDevices(0, 2);
      const p2 = await meta.telemetry.reportingDevices(p1[1].devNo, 2);
      assert.deepEqual(
        [...p1, ...p2].map((d) => [d.id, d.userId]),
        [
          ['a', 'u1'],
          ['d', 'u1'],
          ['b', 'u1'],
          ['c', 'u1'],
        ],
      );
    });

    void it('writes a batch of more devices than it folds at once', async () => {
      const ids = Array.from({ length: 1500 }, (_, i) => `big-${String(i).padStart(4, '0')}`);
      for (const id of ids) await meta.devices.create({ id, userId: 'u2', name: id, kind: 'other' });
      const batch = ids.flatMap((id, i) => [
        ev(id, T0 + 2, i % 3 === 0 ? 'ok' : 'failed'),
        ev(id, T0 + 1, 'failed'),
        ev(id, T0 + 3, 'failed'),
      ]);
      const outcomes = await record(batch);
      assert.deepEqual(
        outcomes.map((o) => o.deviceId),
        ids,
      );
      assert.deepEqual(
        outcomes.map((o) => o.consecutiveFailures),
        ids.map((_, i) => (i % 3 === 0 ? 1 : 3)),
      );
      const h = await meta.telemetry.history('big-1400', { limit: 10 });
      assert.deepEqual(
        h.map((e) => e.at),
        [T0 + 3, T0 + 2, T0 + 1],
      );
      const failing = await meta.telemetry.failing({ min: 3, userId: 'u2', limit: 2000, offset: 0 });
      assert.equal(failing.filter((d) => d.deviceId.startsWith('big-')).length, 1000);
    });

    void it('keeps ingest tokens by hash and revokes them once', async () => {
      const t = await meta.telemetry.createIngestToken({
        id: 't1',
        name: 'gateway',
        tokenHash: 'h1',
        createdBy: 'u1',
      });
      assert.equal((await meta.telemetry.ingestTokenByHash('h1'))!.id, t.id);
      assert.equal(await meta.telemetry.revokeIngestToken('t1', Date.now()), true);
      assert.equal(await meta.telemetry.revokeIngestToken('t1', Date.now()), false);
      assert.notEqual((await meta.telemetry.ingestTokenByHash('h1'))!.revokedAt, null);
    });
  });
}

suite('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-telemetry-'));
  const meta = await openMetaStore(join(dir, 'ferry.db'), { durable: false });
  return { meta, done: async () => (await meta.close(), await rm(dir, { recursive: true, force: true })) };
});

// The server's path for SQLite files: batches written by the writer thread's own connection, read
// back through the main one.
suite('sqlite, writer thread', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-telemetry-'));
  const path = join(dir, 'ferry.db');
  const meta = await openMetaStore(path);
  const writer = new WorkerTelemetryWriter({ path });
  return {
    meta,
    record: (events) => writer.record(SyncEventBatch.of(events)),
    prune: (olderThan, limit) => writer.prune(olderThan, limit),
    done: async () => {
      await writer.close();
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

suite(
  'postgres',
  async () => {
    const db = await createTestDatabase('ferry_telemetry');
    const meta = await openMetaStore(db.url);
    return { meta, done: async () => (await meta.close(), await db.drop()) };
  },
  PG_SKIP,
);

void describe('migration 0005 (event chains) on SQLite', () => {
  void it('links the events recorded before it into each device history, by time', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-chain-migration-'));
    try {
      // A database as the migrations before 0005 left it, with events in no particular order.
      const file = join(dir, 'ferry.db');
      const db = new DatabaseSync(file);
      db.exec(
        'CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)',
      );
      for (const m of loadMigrations('sqlite').filter((m) => m.version < 5)) {
        db.exec(m.sql);
        db.prepare('INSERT INTO schema_migrations VALUES (?, ?, 0)').run(m.version, m.name);
      }
      db.exec(`INSERT INTO users (id, username, password_hash, role, quota_bytes, created_at) VALUES ('u', 'u', 'x', 'user', NULL, 0);
        INSERT INTO devices (id, user_id, name, kind, created_at) VALUES ('p', 'u', 'p', 'other', 0), ('q', 'u', 'q', 'other', 0);`);
      const state = db.prepare(
        `INSERT INTO device_sync_state (dev_no, device_id, last_at, last_status, last_files, last_errors,
           consecutive_failures, events, ok_events, speed_sum, speed_count, duration_sum, duration_count,
           bytes_up, bytes_down, files_total) VALUES (?, ?, ?, 'ok', 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0)`,
      );
      state.run(1, 'p', T0 + 3);
      state.run(2, 'q', T0 + 2);
      const event = db.prepare(
        "INSERT INTO sync_events (dev_no, at, received_at, status, files, errors) VALUES (?, ?, 0, 'ok', 0, 0)",
      );
      for (const [dev, at] of [
        [1, 2],
        [2, 1],
        [1, 3],
        [1, 1],
        [2, 2],
      ])
        event.run(dev, T0 + at);
      db.close();

      const upgrades: number[] = [];
      const meta = await openMetaStore(file, { onUpgrade: (m) => upgrades.push(m.version) });
      try {
        assert.deepEqual(
          upgrades,
          loadMigrations('sqlite')
            .filter((m) => m.version >= 5)
            .map((m) => m.version),
          'an upgrade announces the migrations it applies',
        );
        const times = async (id: string) =>
          (await meta.telemetry.history(id, { limit: 10 })).map((e) => e.at - T0);
        assert.deepEqual(await times('p'), [3, 2, 1]);
        assert.deepEqual(await times('q'), [2, 1]);
        // New events extend the migrated chains.
        await meta.transaction((tx) => tx.telemetry.record([ev('p', T0 + 4, 'ok')]));
        assert.deepEqual(await times('p'), [4, 3, 2, 1]);
      } finally {
        await meta.close();
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void it('a new database is created without announcing an upgrade', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-new-db-'));
    try {
      const upgrades: number[] = [];
      const meta = await openMetaStore(join(dir, 'ferry.db'), { onUpgrade: (m) => upgrades.push(m.version) });
      await meta.close();
      assert.deepEqual(upgrades, []);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

void describe('telemetryWriterFor (SQLite file)', () => {
  void it('writes small batches in-process, starts the writer thread at the first big batch and keeps it', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-telemetry-writer-'));
    const meta = await openMetaStore(join(dir, 'ferry.db'));
    const writer = telemetryWriterFor(meta, { workerFrom: 10 });
    try {
      await meta.users.create({ id: 'u', username: 'u', passwordHash: 'x', role: 'user' });
      await meta.devices.create({ id: 'w', userId: 'u', name: 'w', kind: 'desktop' });
      const batch = (from: number, n: number) =>
        SyncEventBatch.of(Array.from({ length: n }, (_, i) => ev('w', T0 + from + i, 'ok')));
      await writer.record(batch(0, 3));
      assert.equal(await writer.heapBytes!(), undefined, 'no writer thread for a batch of 3');
      await writer.record(batch(100, 10));
      const heap = (await writer.heapBytes!()) ?? 0;
      assert.ok(heap > 1 << 20, `the writer thread runs once a batch reaches 10 (its heap: ${heap} bytes)`);
      await writer.record(batch(200, 1)); // to the thread now, small as it is
      const history = await meta.telemetry.history('w', { limit: 100 });
      assert.equal(history.length, 14, 'every event of the three batches is stored');
    } finally {
      await writer.close();
      await meta.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
