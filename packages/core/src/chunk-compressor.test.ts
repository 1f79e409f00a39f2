import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { looksIncompressible } from './entropy.ts';
import { ChunkCompressor } from './chunk-compressor.ts';

test('ChunkCompressor: concurrent chunks each become a standalone zstd frame', async () => {
  const c = new ChunkCompressor(2);
  try {
    const inputs = Array.from({ length: 50 }, (_, i) =>
      Buffer.from(`chunk ${i} `.repeat(100 + i * 37) + randomBytes(i * 10).toString('hex')),
    );
    const frames = await Promise.all(inputs.map((d) => c.compress(d)));
    for (const [i, f] of frames.entries()) {
      assert.ok(f.length < inputs[i].length);
      assert.deepEqual(zstdDecompressSync(f), inputs[i]);
    }
  } finally {
    c.close();
  }
});

test('looksIncompressible: random bytes yes, text and zeros no', () => {
  assert.equal(looksIncompressible(randomBytes(32 * 1024)), true);
  assert.equal(looksIncompressible(Buffer.from('the quick brown fox '.repeat(2000))), false);
  assert.equal(looksIncompressible(Buffer.alloc(32 * 1024)), false);
});
