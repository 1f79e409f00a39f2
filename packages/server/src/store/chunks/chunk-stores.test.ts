import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testChunkStore } from './chunk-store.contract.ts';
import { FsChunkStore } from './fs-chunk-store.ts';
import { MemoryChunkStore } from './memory-chunk-store.ts';
import { PackChunkStore } from './pack-chunk-store.ts';

testChunkStore('MemoryChunkStore', async () => ({ store: new MemoryChunkStore() }));

testChunkStore('FsChunkStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-chunks-'));
  return { store: new FsChunkStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});

testChunkStore('PackChunkStore', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-packs-'));
  const store = new PackChunkStore(dir, { packSize: 64 * 1024 });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

test('FsChunkStore: a corrupted chunk on disk is never served', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-chunks-'));
  try {
    const s = new FsChunkStore(dir);
    const data = randomBytes(5000);
    const hash = createHash('sha256').update(data).digest('hex');
    await s.put(hash, data);
    await writeFile(join(dir, hash.slice(0, 2), hash), Buffer.concat([Buffer.of(0), randomBytes(5000)]));
    await assert.rejects(s.get(hash), { code: 'HASH_MISMATCH' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('FsChunkStore: temp files left by a crash are removed and never listed', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-chunks-'));
  try {
    await mkdir(join(dir, 'tmp'), { recursive: true });
    await writeFile(join(dir, 'tmp', 'half-written'), 'partial');
    const s = new FsChunkStore(dir);
    const data = randomBytes(100);
    await s.put(createHash('sha256').update(data).digest('hex'), data);
    assert.deepEqual(await readdir(join(dir, 'tmp')), []);
    const listed: string[] = [];
    for await (const h of s.list()) listed.push(h);
    assert.equal(listed.length, 1);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
