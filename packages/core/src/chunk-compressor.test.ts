import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { zstdCompressSync, zstdDecompressSync } from 'node:zlib';
import { looksIncompressible } from './entropy.ts';
import { ChunkCompressor, decompressChunk, frameContentSize } from './chunk-compressor.ts';

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

test('ChunkCompressor frames declare their content size, which sizes the output buffer of decompressChunk', async () => {
  const c = new ChunkCompressor(1);
  try {
    for (const size of [200, 300, 70_000, 128 * 1024]) {
      const data = Buffer.from('ferry frame '.repeat(Math.ceil(size / 12))).subarray(0, size);
      const frame = await c.compress(data);
      assert.equal(frameContentSize(frame), size);
      const plain = decompressChunk(frame);
      assert.deepEqual(plain, data);
      // Small outputs come from Node's shared Buffer pool; bigger ones get a buffer of their size.
      const most = Math.max(size + 1, Buffer.poolSize);
      assert.ok(plain.buffer.byteLength <= most, `output buffer of ${plain.buffer.byteLength} bytes`);
    }
  } finally {
    c.close();
  }
});

test('frameContentSize: every size field width; undefined without one or for what is not a zstd frame', () => {
  const header = (descriptor: number, ...rest: number[]) =>
    Buffer.from([0x28, 0xb5, 0x2f, 0xfd, descriptor, ...rest, 0, 0, 0]);
  assert.equal(frameContentSize(header(0b0010_0000, 200)), 200); // single segment, 1 byte
  assert.equal(frameContentSize(header(0b0110_0000, 0x00, 0x01)), 256 + 256); // 2 bytes, +256
  assert.equal(frameContentSize(header(0b1000_0000, 0x58, 0x00, 0x10, 0x00, 0x00)), 0x1000); // window byte, 4 bytes
  assert.equal(frameContentSize(header(0b1110_0001, 0x07, 1, 0, 0, 0, 0, 0, 0, 0)), 1); // 1-byte dict id, 8 bytes
  assert.equal(frameContentSize(header(0b0000_0000, 0x58)), undefined); // no size declared
  assert.equal(frameContentSize(Buffer.from('not a zstd frame')), undefined);
  assert.equal(frameContentSize(zstdCompressSync(Buffer.from('x'.repeat(5000)))), 5000);
});
