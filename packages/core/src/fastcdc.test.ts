import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomFillSync } from 'node:crypto';
import { Chunker, DEFAULT_CHUNKER, chunkBuffer, chunkReads } from './fastcdc.ts';

const hashes = (chunks: Uint8Array[]) => chunks.map((c) => createHash('sha256').update(c).digest('hex'));

function seeded(size: number, seed: number): Uint8Array {
  // Deterministic pseudo-random bytes (xorshift32), so a failure reproduces.
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

test('chunks cover the input exactly and respect min/max sizes', () => {
  const data = seeded(5 * 1024 * 1024, 7);
  const chunks = chunkBuffer(data);
  assert.equal(
    chunks.reduce((n, c) => n + c.length, 0),
    data.length,
  );
  assert.deepEqual(Buffer.concat(chunks), Buffer.from(data));
  for (const c of chunks.slice(0, -1)) {
    assert.ok(c.length >= DEFAULT_CHUNKER.minSize, `chunk of ${c.length} below min`);
    assert.ok(c.length <= DEFAULT_CHUNKER.maxSize, `chunk of ${c.length} above max`);
  }
  const avg = data.length / chunks.length;
  assert.ok(avg > 16 * 1024 && avg < 64 * 1024, `average chunk ${avg} is far from 32 KiB`);
});

test('streaming in arbitrary pieces gives the same chunks as one buffer (deterministic)', () => {
  const data = seeded(3 * 1024 * 1024, 11);
  const whole = hashes(chunkBuffer(data));
  const c = new Chunker();
  const streamed: Uint8Array[] = [];
  let pos = 0;
  let step = 1;
  while (pos < data.length) {
    const n = Math.min(data.length - pos, (step = (step * 7919) % 200_003) + 1);
    streamed.push(...c.push(data.slice(pos, pos + n)));
    pos += n;
  }
  streamed.push(...c.finish());
  assert.deepEqual(hashes(streamed), whole);
});

test('chunks cut from a stream of socket-sized pieces hold only their own bytes', () => {
  const data = seeded(4 * 1024 * 1024, 13);
  const c = new Chunker();
  const got: Uint8Array[] = [];
  // Each piece in its own buffer, as socket reads arrive.
  for (let pos = 0; pos < data.length; pos += 65536) got.push(...c.push(data.slice(pos, pos + 65536)));
  got.push(...c.finish());
  assert.deepEqual(hashes(got), hashes(chunkBuffer(data)));
  for (const chunk of got)
    assert.ok(
      chunk.buffer.byteLength <= 65536 || chunk.buffer.byteLength === chunk.length,
      'a chunk pins a joined buffer',
    );
});

test('chunkReads gives the same chunks and bytes as one buffer, whatever the read sizes', async () => {
  const data = seeded(6 * 1024 * 1024, 12);
  const whole = hashes(chunkBuffer(data));
  // Reads far above, around and below maxSize, short reads included (fewer bytes than asked).
  for (const [readSize, short] of [
    [2 * 1024 * 1024, 0],
    [300_000, 77_777],
    [4096, 1000],
  ]) {
    const got: string[] = [];
    const seen: Uint8Array[] = [];
    let pos = 0;
    let reads = 0;
    await chunkReads({
      readSize,
      read: (into) => {
        const n = Math.min(data.length - pos, reads++ % 3 === 2 && short ? short : into.length);
        into.set(data.subarray(pos, pos + n));
        pos += n;
        return Promise.resolve(n);
      },
      onData: (b) => seen.push(b.slice()),
      // Hashed during the call: the view is reused afterwards.
      onChunk: (c) => got.push(...hashes([c])),
    });
    assert.deepEqual(got, whole, `reads of ${readSize} bytes`);
    assert.deepEqual(Buffer.concat(seen), Buffer.from(data));
  }
  const none: Uint8Array[] = [];
  await chunkReads({ readSize: 1024, read: () => Promise.resolve(0), onChunk: (c) => none.push(c) });
  assert.equal(none.length, 0);
});

test('inserting 10 bytes into a 100 MB file changes at most 3 chunks', () => {
  const data = randomFillSync(Buffer.alloc(100 * 1024 * 1024));
  const before = new Set(hashes(chunkBuffer(data)));
  const mid = data.length >> 1;
  const edited = Buffer.concat([data.subarray(0, mid), Buffer.from('0123456789'), data.subarray(mid)]);
  const after = hashes(chunkBuffer(edited));
  const changed = after.filter((h) => !before.has(h));
  assert.ok(changed.length >= 1 && changed.length <= 3, `${changed.length} chunks changed`);
});

test('empty input gives no chunks; tiny input gives one', () => {
  assert.equal(chunkBuffer(new Uint8Array(0)).length, 0);
  assert.equal(chunkBuffer(new Uint8Array(100)).length, 1);
});

test('invalid options are refused', () => {
  assert.throws(() => new Chunker({ minSize: 1024, avgSize: 3000, maxSize: 8192 }), /power of two/);
  assert.throws(() => new Chunker({ minSize: 8192, avgSize: 4096, maxSize: 16384 }), /minSize/);
});

test('cut points are pinned: every device and server version must cut the same bytes the same way', () => {
  // Boundaries are a compatibility contract (chunks dedup across devices, versions and releases);
  // a change to the gear table, masks or loop that moves a cut fails here.
  const sizes = chunkBuffer(seeded(4 * 1024 * 1024, 2024)).map((c) => c.length);
  assert.equal(sizes.length, 118);
  assert.deepEqual(sizes.slice(0, 5), [14551, 12477, 64951, 32826, 46447]);
  assert.equal(
    createHash('sha256').update(sizes.join(',')).digest('hex'),
    '8568e77013241deeece73b2e45789bde324d63cb423257841b42f5b374446a19',
  );
});
