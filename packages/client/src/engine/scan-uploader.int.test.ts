// Chunks sent while the scan hashes (ScanUploader) against the real server: what the hasher cuts is
// on the server once, afterwards the upload step has nothing left to send, chunks the server already
// has are not sent again, and an unreachable server never fails the hashing.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FerryClient } from '../api/client.ts';
import { startLiveServer, type LiveServer } from '../testing/live-server.ts';
import { uploadMissingChunks } from './chunk-uploader.ts';
import { unpackRefs } from './chunk-refs.ts';
import { hashFile } from './file-hasher.ts';
import { ScanUploader } from './scan-uploader.ts';

let live: LiveServer;
let client: FerryClient;
let root: string;

before(async () => {
  live = await startLiveServer('ferry-scanup-');
  ({ client, root } = live);
});
after(() => live.close());

const hashesOf = (refs: Uint8Array) => unpackRefs(refs).map((r) => r.hash);

void test('hashing with a ScanUploader puts every chunk on the server once, and the upload step then sends nothing', async () => {
  const big = randomBytes(5 << 20); // several reads and batches
  const small = Buffer.from('x'.repeat(40_000)); // compressible, one synchronous read
  await writeFile(join(root, 'big.bin'), big);
  await writeFile(join(root, 'copy.bin'), big); // same chunks: offered twice, sent once
  await writeFile(join(root, 'small.txt'), small);
  const up = new ScanUploader(client.sync, { batchBytes: 1 << 20, inFlight: 2 });
  const files = ['big.bin', 'copy.bin', 'small.txt'];
  const hashed = await Promise.all(
    files.map((f, i) => hashFile(join(root, f), [big, big, small][i].length, up)),
  );
  await up.finish();
  assert.equal(up.error, undefined);
  const all = [...new Set(hashed.flatMap((h) => hashesOf(h.refs)))];
  assert.deepEqual(await client.sync.missingChunks(all), [], 'every chunk is on the server');
  for (const h of all) assert.ok(up.stored.has(h), `${h} is known to be stored`);
  // The big file's bytes went up once (random data does not compress); the text went compressed.
  assert.ok(up.bytesSent > big.length && up.bytesSent < big.length + small.length, `sent ${up.bytesSent}`);

  const rep = await uploadMissingChunks(
    client.sync,
    root,
    files.map((f, i) => ({ key: f, diskPath: f, refs: hashed[i].refs })),
    { stored: up.stored },
  );
  assert.equal(rep.chunksSent, 0);
  assert.equal(rep.bytesSent, 0);
});

void test('chunks the server already has are asked about, not sent', async () => {
  const base = randomBytes(3 << 20);
  await writeFile(join(root, 'base.bin'), base);
  const first = new ScanUploader(client.sync);
  await hashFile(join(root, 'base.bin'), base.length, first);
  await first.finish();

  // The same bytes with 10 bytes inserted in the middle: only the chunks around the insert are new.
  const edited = Buffer.concat([
    base.subarray(0, 1 << 20),
    Buffer.from('0123456789'),
    base.subarray(1 << 20),
  ]);
  await writeFile(join(root, 'edited.bin'), edited);
  const second = new ScanUploader(client.sync);
  const h = await hashFile(join(root, 'edited.bin'), edited.length, second);
  await second.finish();
  assert.equal(second.error, undefined);
  assert.ok(second.bytesSent > 0, 'the new chunks went up');
  assert.ok(second.bytesSent < 300_000, `only the chunks around the insert: ${second.bytesSent} bytes`);
  assert.deepEqual(await client.sync.missingChunks(hashesOf(h.refs)), []);
});

void test('an unreachable server stops the early upload without failing the hashing', async () => {
  const offline = new FerryClient({
    baseUrl: 'http://127.0.0.1:9',
    retry: { retries: 0, baseDelayMs: 1, maxDelayMs: 1 },
  });
  const data = randomBytes(3 << 20);
  await writeFile(join(root, 'offline.bin'), data);
  const up = new ScanUploader(offline.sync, { batchBytes: 256 << 10, inFlight: 1 });
  const h = await hashFile(join(root, 'offline.bin'), data.length, up);
  await up.finish();
  assert.equal(h.size, data.length);
  assert.ok(up.error !== undefined, 'the error is kept');
  assert.equal(up.stored.size, 0);
  assert.equal(up.bytesSent, 0);
});
