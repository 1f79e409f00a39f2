import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decodeFrames, encodeFrames, FrameReader, type ChunkFrame } from './sync-api.ts';

const frames: ChunkFrame[] = Array.from({ length: 60 }, (_, i) => {
  const payload = randomBytes(i % 7 === 0 ? 0 : 1 + ((i * 7919) % 70_000));
  return { hash: createHash('sha256').update(payload).digest('hex'), flags: i % 2, payload };
});
const body = encodeFrames(frames);
const plain = (fs: ChunkFrame[]) =>
  fs.map((f) => ({ ...f, payload: Buffer.from(f.payload).toString('hex') }));

test('FrameReader gives the same frames whatever the pieces, headers and payloads cut anywhere', () => {
  assert.deepEqual(plain(decodeFrames(body)), plain(frames));
  for (const sizes of [[7], [36, 37, 38], [65_536], [1_000_000], [5, 100_000, 3, 1]]) {
    const r = new FrameReader();
    const got: ChunkFrame[] = [];
    for (let at = 0, i = 0; at < body.length; i++) {
      const n = sizes[i % sizes.length];
      got.push(...r.push(body.subarray(at, at + n)));
      at += n;
    }
    r.end();
    assert.deepEqual(plain(got), plain(frames), `pieces of ${sizes.join(', ')} bytes`);
  }
});

test('a body that ends inside a frame header or payload is an error', () => {
  const header = new FrameReader();
  header.push(body.subarray(0, 20));
  assert.throws(() => header.end(), /truncated chunk frame header/);
  const payload = new FrameReader();
  payload.push(body.subarray(0, 37 + frames[1].payload.length - 1));
  assert.throws(() => payload.end(), /truncated chunk frame/);
  assert.throws(() => decodeFrames(body.subarray(0, body.length - 1)), /truncated/);
});
