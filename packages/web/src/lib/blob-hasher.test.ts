// The browser's chunking (blob-hasher, on Node's own Blob and WebCrypto) against the Node engine's
// file-hasher: the same bytes must give the same chunks and content hash, or browser uploads would
// not dedup with devices' and the server would refuse the whole-file hash.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashFile } from '../../../client/src/engine/file-hasher.ts';
import { unpackRefs } from '../../../client/src/engine/chunk-refs.ts';
import { hashBlob } from './blob-hasher.ts';

/** Pseudo-random bytes that are the same on every run (AES-CTR of zeros), so the cuts are too. */
const noise = (n: number, seed: number) =>
  createCipheriv('aes-256-ctr', Buffer.alloc(32, seed), Buffer.alloc(16, 0)).update(Buffer.alloc(n));

// Random bytes (content-defined cuts), a long run of zeros (forced cuts at the maximum size) and
// text: every way the chunker cuts, in one file that is not a multiple of any slice size.
const mixed = Buffer.concat([
  noise(3 * 1024 * 1024 + 12_345, 1),
  Buffer.alloc(600_000),
  Buffer.from('a line of text that repeats\n'.repeat(40_000)),
  noise(70_001, 2),
]);

test('a Blob is cut and hashed exactly as the Node engine cuts and hashes the same file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-blob-hasher-'));
  try {
    const file = join(dir, 'mixed.bin');
    await writeFile(file, mixed);
    const engine = await hashFile(file);
    const expected = unpackRefs(engine.refs);
    assert.ok(expected.length > 80, `enough chunks to compare (${expected.length})`);
    for (const sliceBytes of [undefined, 77_777, 200_000]) {
      const seen: number[] = [];
      const browser = await hashBlob(new Blob([mixed]), { sliceBytes, onProgress: (n) => seen.push(n) });
      assert.equal(browser.contentHash, engine.contentHash, `content hash, slices of ${sliceBytes}`);
      assert.equal(browser.size, mixed.length);
      assert.deepEqual(browser.chunks, expected, `chunks, slices of ${sliceBytes}`);
      assert.equal(seen.at(-1), mixed.length, 'progress reaches the whole size');
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an empty Blob and a one-chunk Blob hash like sha256sum', async () => {
  const empty = await hashBlob(new Blob([]));
  assert.equal(empty.contentHash, createHash('sha256').update(Buffer.alloc(0)).digest('hex'));
  assert.deepEqual(empty.chunks, []);
  const small = Buffer.from('hello ferry\n');
  const one = await hashBlob(new Blob([small]));
  const sum = createHash('sha256').update(small).digest('hex');
  assert.equal(one.contentHash, sum);
  assert.deepEqual(one.chunks, [{ hash: sum, size: small.length, offset: 0 }]);
});

test('hashing stops when its signal is aborted', async () => {
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(hashBlob(new Blob([mixed]), { signal: ac.signal }), { name: 'AbortError' });
});
