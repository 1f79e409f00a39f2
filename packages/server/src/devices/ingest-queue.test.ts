// IngestQueue: all-or-nothing offers within a capacity in bytes, batches of at most maxBatch items,
// group commit, settle/close cutting the linger short, retries of a failed commit, and dropping a
// batch that keeps failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestQueue } from './ingest-queue.ts';

/** Numbers of 10 bytes each. */
class Batch {
  readonly items: number[] = [];
  get length() {
    return this.items.length;
  }
  get bytes() {
    return this.items.length * 10;
  }
}

const queue = (o: { capacityBytes: number; maxBatch: number; lingerMs?: number; maxAttempts?: number }) => {
  const batches: number[][] = [];
  let gate: Promise<void> = Promise.resolve();
  const q = new IngestQueue<Batch>({
    ...o,
    newBatch: () => new Batch(),
    commit: async (b) => {
      batches.push([...b.items]);
      await gate;
    },
  });
  const offer = (...items: number[]) =>
    q.offer(items.length, items.length * 10, (b) => b.items.push(...items));
  const hold = () => {
    let release!: () => void;
    gate = new Promise<void>((r) => (release = r));
    return () => {
      gate = Promise.resolve();
      release();
    };
  };
  return { q, offer, batches, hold };
};

void test('refuses what does not fit in bytes, counting the batch being written', async () => {
  const { q, offer, batches, hold } = queue({ capacityBytes: 30, maxBatch: 10 });
  const release = hold();
  assert.equal(offer(1, 2), true);
  assert.equal(offer(3, 4), false, 'all or nothing');
  assert.equal(offer(3), true);
  assert.equal(q.bytes, 30);
  assert.equal(q.writing, false, 'gathering, not yet writing');
  await new Promise((r) => setImmediate(r));
  assert.equal(q.depth, 3, 'the batch in flight still counts');
  assert.equal(q.bytes, 30);
  assert.equal(q.writing, true);
  assert.equal(offer(4), false);
  release();
  await q.settle();
  assert.equal(q.depth, 0);
  assert.equal(q.bytes, 0);
  assert.equal(q.writing, false);
  assert.deepEqual(batches, [[1, 2, 3]]);
});

void test('an offer goes into one batch; a batch holds at most maxBatch items', async () => {
  const { q, offer, batches } = queue({ capacityBytes: 1000, maxBatch: 4 });
  offer(1, 2, 3);
  offer(4, 5);
  offer(6, 7);
  offer(8, 9, 10, 11);
  await q.settle();
  assert.deepEqual(batches, [
    [1, 2, 3],
    [4, 5, 6, 7],
    [8, 9, 10, 11],
  ]);
});

void test('settle() and close() do not wait out the linger; close() drains and then refuses', async () => {
  const { q, offer, batches } = queue({ capacityBytes: 1000, maxBatch: 100, lingerMs: 60_000 });
  offer(1, 2);
  const t = performance.now();
  await q.settle();
  assert.ok(performance.now() - t < 1000);
  offer(3);
  await q.close();
  assert.deepEqual(batches.flat(), [1, 2, 3]);
  assert.equal(offer(4), false);
});

void test('retries a failed commit, and drops a batch after maxAttempts', async () => {
  let calls = 0;
  const errors: { attempt: number; dropped: number }[] = [];
  const q = new IngestQueue<Batch>({
    capacityBytes: 100,
    maxBatch: 10,
    maxAttempts: 2,
    newBatch: () => new Batch(),
    commit: async (b) => {
      calls++;
      if (b.items.includes(666) || calls === 1) throw new Error('boom');
    },
    onError: (_e, o) => errors.push(o),
  });
  q.offer(1, 10, (b) => b.items.push(1));
  await q.settle();
  assert.deepEqual(errors, [{ attempt: 1, dropped: 0 }]);
  q.offer(1, 10, (b) => b.items.push(666));
  await q.settle();
  assert.deepEqual(errors.slice(1), [
    { attempt: 1, dropped: 0 },
    { attempt: 2, dropped: 1 },
  ]);
  assert.equal(q.depth, 0);
  assert.equal(q.bytes, 0);
});
