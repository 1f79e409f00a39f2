// IngestQueue: all-or-nothing offers within capacity, group commit, settle/close cutting the linger
// short, retries of a failed commit, and dropping a batch that keeps failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IngestQueue } from './ingest-queue.ts';

void test('refuses what does not fit, counting the batch being written', async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const batches: number[][] = [];
  const q = new IngestQueue<number>({
    capacity: 3,
    maxBatch: 10,
    commit: async (b) => (batches.push(b), await gate),
  });
  assert.equal(q.offer([1, 2]), true);
  assert.equal(q.offer([3, 4]), false, 'all or nothing');
  assert.equal(q.offer([3]), true);
  assert.equal(q.writing, false, 'gathering, not yet writing');
  await new Promise((r) => setImmediate(r));
  assert.equal(q.depth, 3, 'the batch in flight still counts');
  assert.equal(q.writing, true);
  assert.equal(q.offer([4]), false);
  release();
  await q.settle();
  assert.equal(q.depth, 0);
  assert.equal(q.writing, false);
  assert.deepEqual(batches, [[1, 2, 3]]);
});

void test('settle() and close() do not wait out the linger; close() drains and then refuses', async () => {
  const written: number[] = [];
  const q = new IngestQueue<number>({
    capacity: 100,
    maxBatch: 100,
    lingerMs: 60_000,
    commit: async (b) => void written.push(...b),
  });
  q.offer([1, 2]);
  const t = performance.now();
  await q.settle();
  assert.ok(performance.now() - t < 1000);
  q.offer([3]);
  await q.close();
  assert.deepEqual(written, [1, 2, 3]);
  assert.equal(q.offer([4]), false);
});

void test('retries a failed commit, and drops a batch after maxAttempts', async () => {
  let calls = 0;
  const errors: { attempt: number; dropped: number }[] = [];
  const q = new IngestQueue<number>({
    capacity: 10,
    maxBatch: 10,
    maxAttempts: 2,
    commit: async (b) => {
      calls++;
      if (b.includes(666) || calls === 1) throw new Error('boom');
    },
    onError: (_e, o) => errors.push(o),
  });
  q.offer([1]);
  await q.settle();
  assert.deepEqual(errors, [{ attempt: 1, dropped: 0 }]);
  q.offer([666]);
  await q.settle();
  assert.deepEqual(errors.slice(1), [
    { attempt: 1, dropped: 0 },
    { attempt: 2, dropped: 1 },
  ]);
  assert.equal(q.depth, 0);
});
