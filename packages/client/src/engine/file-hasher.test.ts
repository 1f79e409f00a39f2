// hashFile reads a file once: the same hash, chunks and manifest as hashing its bytes in memory,
// whether the whole-file hash runs here (small files) or on the hashing thread (big ones), also
// with several big files at once and a sink that holds the reads back.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashBytes, hashFile, type ChunkSink } from './file-hasher.ts';
import { PARALLEL_HASH_MIN, stopHashingThread, streamSha256 } from './parallel-sha256.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-hasher-'));
});
after(() => rm(dir, { recursive: true, force: true }));

const inMemory = (file: string) => hashBytes(readFileSync(file));

void test('big and small files hash as their bytes do, several big ones at once', async () => {
  const sizes = [PARALLEL_HASH_MIN + 12_345, 3 * PARALLEL_HASH_MIN + 1, 300_000, PARALLEL_HASH_MIN - 1];
  const files = await Promise.all(
    sizes.map(async (n, i) => {
      const f = join(dir, `f${i}.bin`);
      await writeFile(f, randomBytes(n));
      return f;
    }),
  );
  const got = await Promise.all(files.map((f, i) => hashFile(f, sizes[i])));
  for (const [i, f] of files.entries()) assert.deepEqual(got[i], inMemory(f), f);
});

void test('a sink that makes the reads wait gets every chunk, and the hash is unchanged', async () => {
  const f = join(dir, 'slow.bin');
  await writeFile(f, randomBytes(2 * PARALLEL_HASH_MIN));
  let offered = 0;
  const sink: ChunkSink = {
    offer: (_h, bytes) => (offered += bytes.length),
    ready: () => new Promise((r) => setTimeout(r, 2)),
  };
  const h = await hashFile(f, 2 * PARALLEL_HASH_MIN, sink);
  assert.equal(offered, 2 * PARALLEL_HASH_MIN);
  assert.deepEqual(h, inMemory(f));
});

void test('the hashing thread hashes shared bytes in order, and refuses unshared ones', async () => {
  const job = streamSha256(PARALLEL_HASH_MIN);
  const buf = job.alloc(1 << 20);
  const expected = createHash('sha256');
  for (let i = 0; i < 5; i++) {
    buf.fill(i);
    expected.update(buf);
    job.update(buf);
    await job.released(buf.buffer);
  }
  assert.equal(await job.digest(), expected.digest('hex'));
  const other = streamSha256(PARALLEL_HASH_MIN);
  const unshared = new Uint8Array(8);
  other.update(unshared);
  await assert.rejects(other.released(unshared.buffer), /shared/);
  other.drop();
});

void test('a job does not go on in a new hashing thread after its own stopped', async () => {
  const job = streamSha256(PARALLEL_HASH_MIN);
  const buf = job.alloc(1024);
  job.update(buf);
  await job.released(buf.buffer);
  await stopHashingThread(); // as a crash would
  // The rest of the stream must not be hashed from scratch by another thread.
  job.update(buf);
  await assert.rejects(job.released(buf.buffer), /stopped/);
  job.drop();
  const next = streamSha256(PARALLEL_HASH_MIN);
  next.update(buf);
  assert.equal(await next.digest(), createHash('sha256').update(buf).digest('hex'));
});
