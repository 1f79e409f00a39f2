import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { looksIncompressible } from './entropy.ts';
import { ChunkCompressor, decompressChunk } from './chunk-compressor.ts';

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

test('decompressChunk: an expected size gives an output buffer of about that size; a wrong one still decompresses right', () => {
  const data = Buffer.from('ferry chunk '.repeat(2800)); // 33,600 bytes
  const frame = zstdCompressSync(data);
  const plain = decompressChunk(frame);
  assert.deepEqual(plain, data);
  const sized = decompressChunk(frame, 1024 * 1024, data.length);
  assert.deepEqual(sized, data);
  assert.ok(sized.buffer.byteLength <= data.length + 1, `output buffer of ${sized.buffer.byteLength} bytes`);
  assert.deepEqual(decompressChunk(frame, 1024 * 1024, 1000), data);
  assert.deepEqual(decompressChunk(frame, 1024 * 1024, 10 * data.length), data);
  // The limit holds whatever the hint says.
  assert.throws(() => decompressChunk(frame, 20_000, 10_000), RangeError);
});
