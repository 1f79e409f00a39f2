// The downloader against the real server: a new version is assembled from the device's old copy
// plus the chunks it lacks, and a local source that changed after the plan never ends up in the file.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestServer } from '@ferry/server/testing/test-server';
import { FerryClient } from '../api/client.ts';
import { startLiveServer, type LiveServer } from '../testing/live-server.ts';
import { downloadFile, TMP_DIR, type DownloadJob } from './file-downloader.ts';
import { hashBytes } from './file-hasher.ts';
import { unpackRefs } from './chunk-refs.ts';

let live: LiveServer;
let t: TestServer;
let client: FerryClient;
let root: string;

before(async () => {
  live = await startLiveServer('ferry-dl-');
  ({ server: t, client, root } = live);
  await mkdir(join(root, TMP_DIR), { recursive: true });
});
after(() => live.close());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Puts `next` on the server and `old` at `name` locally; returns the job that turns old into next. */
async function scenario(name: string, old: Buffer, next: Buffer): Promise<DownloadJob> {
  const up = await t.request(`/api/v1/files/upload?path=/${name}`, {
    method: 'POST',
    token: t.adminToken,
    body: next as BodyInit,
  });
  assert.equal(up.status, 200);
  await writeFile(join(root, name), old);
  const h = hashBytes(next);
  const oldRefs = hashBytes(old).refs;
  return {
    path: `/${name}`,
    diskPath: name,
    contentHash: h.contentHash,
    size: next.length,
    mtime: Date.now(),
    refs: h.refs,
    expect: null,
    sources: [{ diskPath: name, refs: oldRefs }],
  };
}

const run = (job: DownloadJob) =>
  downloadFile({ root, api: client.sync }, { ...job, expect: null, diskPath: `${job.diskPath}.new` });

void test('a 10-byte insert fetches only the chunks around it; the rest comes from the old copy', async () => {
  const old = randomBytes(12 << 20);
  const next = Buffer.concat([old.subarray(0, 6 << 20), Buffer.from('0123456789'), old.subarray(6 << 20)]);
  const job = await scenario('insert.bin', old, next);
  const res = await run(job);
  assert.equal(res.written, true);
  assert.equal(sha(await readFile(join(root, 'insert.bin.new'))), sha(next));
  assert.ok(res.bytesFetched > 0 && res.bytesFetched < 512 * 1024, `fetched ${res.bytesFetched} bytes`);
  assert.deepEqual(await readdir(join(root, TMP_DIR)), []);
});

void test('a local source overwritten after the plan: its stale chunks are fetched, the file is still right', async () => {
  const old = randomBytes(9 << 20);
  const next = Buffer.concat([old.subarray(0, 3 << 20), randomBytes(100), old.subarray(3 << 20)]);
  const job = await scenario('changed.bin', old, next);
  // The old copy changes under the downloader: 1 MiB in its second half now holds other bytes.
  const fh = await open(join(root, 'changed.bin'), 'r+');
  await fh.write(randomBytes(1 << 20), 0, 1 << 20, 6 << 20);
  await fh.close();
  const res = await run(job);
  assert.equal(res.written, true);
  assert.equal(sha(await readFile(join(root, 'changed.bin.new'))), sha(next));
  assert.ok(res.bytesFetched >= 1 << 20, `fetched only ${res.bytesFetched} bytes`);
});

void test('a local source truncated after the plan: the missing tail is fetched', async () => {
  const old = randomBytes(6 << 20);
  const next = Buffer.concat([randomBytes(50), old]);
  const job = await scenario('short.bin', old, next);
  await truncate(join(root, 'short.bin'), 2 << 20);
  const res = await run(job);
  assert.equal(sha(await readFile(join(root, 'short.bin.new'))), sha(next));
  assert.ok(res.bytesFetched >= 4 << 20, `fetched only ${res.bytesFetched} bytes`);
});

void test('an empty file and a file with no local source are written from the server alone', async () => {
  const empty = await scenario('empty.bin', Buffer.alloc(0), Buffer.alloc(0));
  assert.equal((await run({ ...empty, sources: [] })).written, true);
  assert.equal((await readFile(join(root, 'empty.bin.new'))).length, 0);
  const data = randomBytes(5 << 20);
  const job = await scenario('fresh.bin', Buffer.alloc(0), data);
  const res = await run({ ...job, sources: [] });
  assert.equal(sha(await readFile(join(root, 'fresh.bin.new'))), sha(data));
  assert.ok(res.bytesFetched > 5 << 20, `fetched ${res.bytesFetched} bytes`);
});

void test('a chunk that came wrong is caught by the file hash, fetched again and checked', async () => {
  const data = randomBytes(3 << 20);
  const job = await scenario('handed.bin', Buffer.alloc(0), data);
  const chunks = unpackRefs(job.refs);
  // Chunks handed in (as a batch of small files gets them), one of them with other bytes.
  const have = new Map<string, Uint8Array>();
  let at = 0;
  for (const c of chunks) {
    have.set(c.hash, data.subarray(at, at + c.size));
    at += c.size;
  }
  const bad = chunks[1];
  have.set(bad.hash, randomBytes(bad.size));
  const res = await downloadFile(
    { root, api: client.sync, have },
    { ...job, sources: [], expect: null, diskPath: 'handed.bin.new' },
  );
  assert.equal(res.written, true);
  assert.equal(sha(await readFile(join(root, 'handed.bin.new'))), sha(data));
  assert.ok(res.bytesFetched >= bad.size && res.bytesFetched < 1 << 20, `fetched ${res.bytesFetched} bytes`);
  assert.deepEqual(await readdir(join(root, TMP_DIR)), []);
});
