// Devices converge through a real server with real `ferry` processes: two and three devices, a
// device that was offline for many changes, same-file edits on two devices (conflict copy), delete
// vs modify, and renames that upload no chunk.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFile, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Device, ServerHandle, converged, sha, waitFor } from './sync-harness.ts';

const server = new ServerHandle();
const devices: Device[] = [];
let a: Device, b: Device, c: Device;

before(async () => {
  await server.start();
  [a, b, c] = await Promise.all(['laptop', 'desktop', 'tablet'].map((n) => Device.create(n)));
  devices.push(a, b, c);
  for (const d of devices) await d.setup(server);
});

after(async () => {
  for (const d of devices) await d.dispose();
  await server.dispose();
});

const syncAll = async (ds = devices) => {
  for (const d of ds) await d.syncUntilClean();
  for (const d of ds) await d.syncUntilClean();
};

test('two and three devices converge: files, folders, empty folders, NFC names, edits, deletes', async () => {
  await mkdir(join(a.root, 'docs/empty'), { recursive: true });
  await writeFile(join(a.root, 'docs/readme.md'), '# hello\n');
  await writeFile(join(a.root, 'Cafe\u0301.txt'), 'decomposed name'); // NFD on disk → NFC everywhere
  await writeFile(join(b.root, 'from-b.bin'), Buffer.alloc(200_000, 1));
  await syncAll([a, b]);
  const two = await converged([a, b]);
  assert.ok(two, 'A and B converge');
  assert.ok(two.has('/docs/empty/'));
  assert.ok(two.has('/Café.txt'));
  await syncAll();
  assert.ok(await converged(devices), 'C joins and converges');

  await appendFile(join(c.root, 'docs/readme.md'), 'more\n');
  await rm(join(a.root, 'from-b.bin'));
  await syncAll();
  const t = await converged(devices);
  assert.ok(t);
  assert.equal(t.get('/docs/readme.md'), sha('# hello\nmore\n'));
  assert.ok(!t.has('/from-b.bin'));
});

test("each sync pass that moved files is reported to the server's fleet telemetry as that device's sync event", async () => {
  const laptop = await server.deviceId(a.name);
  await writeFile(join(a.root, 'reported.txt'), 'a pass to report');
  await a.syncUntilClean();
  type History = {
    events: { status: string; total_files_synced: number; device_id: string; error_message: string | null }[];
  };
  // The pass sends its report before `ferry sync` exits.
  const { events } = await server.adminGet<History>(`/api/v1/devices/${laptop}/sync-history`);
  assert.ok(
    events.some((e) => e.status === 'ok' && e.total_files_synced > 0 && e.error_message === null),
    JSON.stringify(events),
  );
  assert.ok(events.every((e) => e.device_id === laptop));
});

test('an offline device catches up on many changes', async () => {
  for (let i = 0; i < 40; i++) await writeFile(join(a.root, `batch-${i}.txt`), `file ${i}`);
  await a.syncUntilClean();
  for (let i = 0; i < 40; i += 2) await rm(join(b.root, `batch-${i}.txt`)).catch(() => undefined);
  await b.syncUntilClean(); // B only knows part of the story; C has been away for all of it
  for (let i = 1; i < 40; i += 4) await writeFile(join(a.root, `batch-${i}.txt`), `edited ${i}`);
  await a.syncUntilClean();
  await syncAll();
  const t = await converged(devices);
  assert.ok(t);
  assert.equal(t.get('/batch-5.txt'), sha('edited 5'));
});

test('both devices edit the same file offline: both contents kept, one conflict copy, same name everywhere', async () => {
  await writeFile(join(a.root, 'notes.txt'), 'base');
  await syncAll();
  await writeFile(join(a.root, 'notes.txt'), 'edit from laptop');
  await writeFile(join(b.root, 'notes.txt'), 'edit from desktop, later');
  await a.syncUntilClean();
  await b.syncUntilClean();
  await syncAll();
  const t = await converged(devices);
  assert.ok(t, 'all devices converge');
  const copies = [...t.keys()].filter((k) =>
    /^\/notes \(conflict from (laptop|desktop) \d{4}-\d{2}-\d{2} \d{6}\)\.txt$/.test(k),
  );
  assert.equal(copies.length, 1, `one conflict copy: ${[...t.keys()].join(', ')}`);
  const contents = new Set([t.get('/notes.txt'), t.get(copies[0])]);
  assert.deepEqual(contents, new Set([sha('edit from laptop'), sha('edit from desktop, later')]));
  const listed = JSON.parse(await c.ok('conflicts', '--json')) as { path: string }[];
  assert.ok(listed.some((e) => e.path === copies[0]));
});

test('delete vs modify: the modification survives', async () => {
  await writeFile(join(a.root, 'keep-me.txt'), 'v1');
  await syncAll();
  await rm(join(a.root, 'keep-me.txt'));
  await writeFile(join(b.root, 'keep-me.txt'), 'v2 from desktop');
  await a.syncUntilClean();
  await b.syncUntilClean();
  await syncAll();
  const t = await converged(devices);
  assert.ok(t);
  assert.equal(t.get('/keep-me.txt'), sha('v2 from desktop'));
  // And the other way round: modified here, deleted there.
  await writeFile(join(a.root, 'keep-me.txt'), 'v3 from laptop');
  await rm(join(b.root, 'keep-me.txt'));
  await b.syncUntilClean();
  await a.syncUntilClean();
  await syncAll();
  const t2 = await converged(devices);
  assert.ok(t2);
  assert.equal(t2.get('/keep-me.txt'), sha('v3 from laptop'));
});

test('renaming a 200 MB file (and a case-only rename) uploads no chunk', async () => {
  const big = Buffer.alloc(200 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4096) big.writeUInt32LE((i * 2654435761) >>> 0, i);
  await writeFile(join(a.root, 'video.bin'), big);
  await syncAll([a, b]);
  await rename(join(a.root, 'video.bin'), join(a.root, 'docs/moved-video.bin'));
  const r = JSON.parse(await a.ok('sync', a.root, '--json')) as {
    renamed: number;
    uploaded: number;
    bytesUp: number;
  };
  assert.equal(r.renamed, 1);
  assert.equal(r.uploaded, 0);
  assert.ok(r.bytesUp < 4096, `rename sent ${r.bytesUp} bytes`);
  await rename(join(a.root, 'docs/moved-video.bin'), join(a.root, 'docs/Moved-Video.bin'));
  const r2 = JSON.parse(await a.ok('sync', a.root, '--json')) as { renamed: number; bytesUp: number };
  assert.equal(r2.renamed, 1);
  assert.ok(r2.bytesUp < 4096);
  const rb = JSON.parse(await b.ok('sync', b.root, '--json')) as { renamed: number; bytesDown: number };
  assert.equal(rb.renamed, 1, 'B renames locally instead of downloading');
  assert.ok(rb.bytesDown < 64 * 1024, `B received ${rb.bytesDown} bytes`);
  await waitFor('B has the renamed file', async () =>
    (await readdir(join(b.root, 'docs'))).includes('Moved-Video.bin'),
  );
  assert.equal(sha(await readFile(join(b.root, 'docs/Moved-Video.bin'))), sha(big));
  await rm(join(a.root, 'docs/Moved-Video.bin'));
  await syncAll([a, b]);
});
