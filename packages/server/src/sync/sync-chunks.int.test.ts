// Chunk negotiation, framed upload and download over HTTP: tenancy, hash verification, compression.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { zstdDecompressSync } from 'node:zlib';
import { startTestServer, type TestServer } from '../testing/test-server.ts';
import { FLAG_ZSTD } from './chunk-frames.ts';
import { commit, content, op, parseFrames, piecesOf, sha256, text, uploadChunks } from './sync-test-kit.ts';

let t: TestServer;
let alice: { token: string };
let bob: { token: string };

before(async () => {
  t = await startTestServer();
  alice = await t.user('alice');
  bob = await t.user('bob');
});
after(() => t.close());

const missing = async (token: string, hashes: string[]) => {
  const res = await t.request('/api/v1/chunks/missing', { method: 'POST', token, json: { hashes } });
  assert.equal(res.status, 200);
  return ((await res.json()) as { missing: string[] }).missing;
};

void test("another tenant's chunk counts as missing; uploading it again verifies and skips the write", async () => {
  const data = randomBytes(100_000);
  const pieces = piecesOf(data);
  const hashes = pieces.map((p) => p.hash);
  assert.deepEqual(await missing(alice.token, hashes), hashes);
  const up = await uploadChunks(t, alice.token, pieces);
  assert.equal(up.status, 200);
  assert.deepEqual(await up.json(), { stored: pieces.length, received: pieces.length });
  assert.deepEqual(await missing(alice.token, hashes), []);
  // Bob cannot learn that alice has these chunks, nor read them.
  assert.deepEqual(await missing(bob.token, hashes), hashes);
  const get = await t.request('/api/v1/chunks/get', {
    method: 'POST',
    token: bob.token,
    json: { hashes: [hashes[0]] },
  });
  assert.equal(get.status, 404);
  // Bob uploads the same bytes: verified, not written twice, and now present for him.
  const again = await uploadChunks(t, bob.token, pieces);
  assert.deepEqual(await again.json(), { stored: 0, received: pieces.length });
  assert.deepEqual(await missing(bob.token, hashes), []);
});

void test('chunks of a file uploaded through the file API are present for the space members only', async () => {
  const data = randomBytes(50_000);
  const up = await t.request('/api/v1/files/upload?path=/web.bin', {
    method: 'POST',
    token: alice.token,
    body: data,
  });
  assert.equal(up.status, 200);
  const hashes = piecesOf(data).map((p) => p.hash);
  assert.deepEqual(await missing(alice.token, hashes), []);
  assert.deepEqual(await missing(bob.token, hashes), hashes);
});

void test('a frame with a bad hash stores nothing of that frame; frames before it are kept', async () => {
  const good = { hash: sha256(text('good chunk')), data: text('good chunk') };
  const badData = text('these bytes do not match');
  const claimed = sha256(text('something else'));
  const res = await uploadChunks(t, alice.token, [good, { hash: claimed, data: badData }]);
  assert.equal(res.status, 400);
  const body = (await res.json()) as { error: { code: string; details: { index: number; hash: string } } };
  assert.equal(body.error.code, 'HASH_MISMATCH');
  assert.equal(body.error.details.index, 1);
  const store = t.server.stores.chunks;
  assert.equal((await store.has([claimed, sha256(badData)])).size, 0);
  assert.deepEqual(await missing(alice.token, [good.hash, claimed]), [claimed]);
});

void test('compressed frames are accepted; a truncated body or an oversized frame is refused', async () => {
  const data = Buffer.alloc(200_000, 'abcabcabc');
  const pieces = piecesOf(data);
  const res = await uploadChunks(t, alice.token, pieces, { zstd: true });
  assert.equal(res.status, 200);
  assert.deepEqual(
    await missing(
      alice.token,
      pieces.map((p) => p.hash),
    ),
    [],
  );
  const cut = await t.request('/api/v1/chunks', {
    method: 'POST',
    token: alice.token,
    headers: { 'content-type': 'application/x-ferry-chunks' },
    body: Buffer.alloc(20),
  });
  assert.equal(cut.status, 400);
  const huge = Buffer.alloc(37);
  huge.writeUInt32BE(2 * 1024 * 1024, 33);
  const big = await t.request('/api/v1/chunks', {
    method: 'POST',
    token: alice.token,
    headers: { 'content-type': 'application/x-ferry-chunks' },
    body: huge,
  });
  assert.equal(big.status, 413);
  const json = await t.request('/api/v1/chunks', { method: 'POST', token: alice.token, json: { x: 1 } });
  assert.equal(json.status, 415);
});

void test('chunks/get returns the frames in order, zstd-compressed when it pays', async () => {
  const compressible = Buffer.alloc(20_000, 'hello ');
  const random = randomBytes(20_000);
  const a = { hash: sha256(compressible), data: compressible };
  const b = { hash: sha256(random), data: random };
  assert.equal((await uploadChunks(t, alice.token, [a, b])).status, 200);
  const res = await t.request('/api/v1/chunks/get', {
    method: 'POST',
    token: alice.token,
    json: { hashes: [b.hash, a.hash, b.hash], compress: true },
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-ferry-chunks');
  const frames = await parseFrames(new Uint8Array(await res.arrayBuffer()));
  assert.deepEqual(
    frames.map((f) => f.hash),
    [b.hash, a.hash],
  );
  assert.equal(frames[0].flags, 0);
  assert.equal(frames[1].flags, FLAG_ZSTD);
  assert.ok(frames[1].payload.length < 1000);
  assert.equal(sha256(zstdDecompressSync(frames[1].payload)), a.hash);
});

void test('a commit may not reference chunks the caller cannot see', async () => {
  const data = randomBytes(30_000);
  const c = await content(t, alice.token, data);
  const r = await commit(t, bob.token, 'default', [
    { opId: op(), path: '/stolen.bin', kind: 'file', baseVersionId: null, ...c },
  ]);
  assert.equal(r.status, 400);
  assert.equal(r.body.error?.code, 'CHUNKS_MISSING');
  assert.deepEqual(
    r.body.error?.details?.missing,
    c.chunks.map((x) => x.hash),
  );
  const lie = await commit(t, alice.token, 'default', [
    { opId: op(), path: '/lie.bin', kind: 'file', baseVersionId: null, ...c, size: c.size + 1 },
  ]);
  assert.equal(lie.body.error?.code, 'SIZE_MISMATCH');
});

void test('an upload of many small chunks shares fsyncs: 1,000 chunks of 2 KiB in far fewer rounds than 8 at a time', async () => {
  const store = t.server.services.content.chunkStore as unknown as {
    stats: { batches: number; records: number };
  };
  const before = { ...store.stats };
  const pieces = Array.from({ length: 1000 }, () => {
    const data = randomBytes(2048);
    return { hash: sha256(data), size: data.length, data };
  });
  const up = await uploadChunks(t, alice.token, pieces);
  assert.equal(up.status, 200);
  assert.deepEqual(await up.json(), { stored: 1000, received: 1000 });
  assert.deepEqual(
    await missing(
      alice.token,
      pieces.map((p) => p.hash),
    ),
    [],
  );
  const batches = store.stats.batches - before.batches;
  assert.equal(store.stats.records - before.records, 1000);
  assert.ok(batches <= 40, `1,000 chunks took ${batches} fsync rounds`);
});
