// The behaviour every ChunkStore must have; each implementation's test calls testChunkStore(make).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import type { ChunkStore } from './chunk-store.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export function testChunkStore(
  name: string,
  make: () => Promise<{ store: ChunkStore; cleanup?: () => Promise<void> }>,
): void {
  const withStore = (title: string, fn: (s: ChunkStore) => Promise<void>): void =>
    void test(`${name}: ${title}`, async () => {
      const { store, cleanup } = await make();
      try {
        await fn(store);
      } finally {
        await cleanup?.();
      }
    });

  withStore('put then get returns the same bytes; has and list see it', async (s) => {
    const data = randomBytes(70_000);
    const text = Buffer.from('hello '.repeat(5000)); // compressible
    const r1 = await s.put(sha(data), data);
    const r2 = await s.put(sha(text), text);
    assert.equal(r1.created, true);
    assert.ok(r2.storedSize > 0);
    assert.deepEqual(Buffer.from(await s.get(sha(data))), data);
    assert.deepEqual(Buffer.from(await s.get(sha(text))), text);
    assert.deepEqual(await s.has([sha(data), sha(Buffer.from('nope'))]), new Set([sha(data)]));
    const listed: string[] = [];
    for await (const h of s.list()) listed.push(h);
    assert.deepEqual(listed.sort(), [sha(data), sha(text)].sort());
  });

  withStore('putting an existing chunk is a no-op reporting created: false', async (s) => {
    const data = randomBytes(1000);
    await s.put(sha(data), data);
    assert.equal((await s.put(sha(data), data)).created, false);
  });

  withStore('a wrong hash is refused with HASH_MISMATCH and stores nothing', async (s) => {
    const data = randomBytes(1000);
    const wrong = sha(Buffer.from('other'));
    await assert.rejects(s.put(wrong, data), { code: 'HASH_MISMATCH' });
    assert.equal((await s.has([wrong])).size, 0);
  });

  withStore('get of a missing chunk is NOT_FOUND; delete is idempotent', async (s) => {
    const data = randomBytes(100);
    await assert.rejects(s.get(sha(data)), { code: 'NOT_FOUND' });
    await s.put(sha(data), data);
    await s.delete(sha(data));
    await s.delete(sha(data));
    assert.equal((await s.has([sha(data)])).size, 0);
  });

  withStore('a chunk given with its zstd frame (an upload frame) reads back as the same bytes', async (s) => {
    const text = Buffer.from('frame '.repeat(6000));
    const r = await s.put(sha(text), text, { zstd: zstdCompressSync(text) });
    assert.equal(r.created, true);
    assert.deepEqual(Buffer.from(await s.get(sha(text))), text);
  });

  withStore('empty chunk round-trips', async (s) => {
    const empty = new Uint8Array(0);
    await s.put(sha(empty), empty);
    assert.equal((await s.get(sha(empty))).length, 0);
  });
}
