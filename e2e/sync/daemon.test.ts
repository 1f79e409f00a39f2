// Daemons and the buffer-mode commands, through a real server and real `ferry` processes: a new
// file reaches the other device by realtime push; with the server stopped both devices keep
// working and converge with a conflict copy once it is back; a daemon killed with SIGKILL in the
// middle of an upload resumes and converges with no temp files and no duplicate versions;
// `ferry put --evict`, `offload`/`hydrate` and `status --json` do what they say.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { Device, ServerHandle, converged, sha, waitFor } from './sync-harness.ts';

const server = new ServerHandle();
let a: Device, b: Device;

before(async () => {
  await server.start();
  [a, b] = await Promise.all(['laptop', 'phone'].map((n) => Device.create(n)));
  await a.setup(server);
  await b.setup(server);
});

after(async () => {
  await a.dispose();
  await b.dispose();
  await server.dispose();
});

const convergedWith = (what: string, check: (t: Map<string, string>) => boolean, timeoutMs = 60_000) =>
  waitFor(
    what,
    async () => {
      const t = await converged([a, b]);
      return t && check(t) ? t : false;
    },
    timeoutMs,
    100,
  );

test('with both daemons running, a new file on one device appears on the other by itself', async () => {
  a.startDaemon();
  b.startDaemon();
  await writeFile(join(a.root, 'hello.txt'), 'x'.repeat(1024));
  const t = await convergedWith('hello.txt on both', (t) => t.has('/hello.txt'));
  assert.equal(t.get('/hello.txt'), sha('x'.repeat(1024)));
  // And the other way round, into a new folder.
  await writeFile(join(b.root, 'from-phone.txt'), 'phone');
  await convergedWith('from-phone.txt on both', (t) => t.get('/from-phone.txt') === sha('phone'));
});

test('server down: both devices edit, then converge with both contents and one conflict copy', async () => {
  await writeFile(join(a.root, 'plan.md'), 'base');
  await convergedWith('plan.md on both', (t) => t.get('/plan.md') === sha('base'));
  await server.stop();
  await writeFile(join(a.root, 'plan.md'), 'laptop, offline');
  await new Promise((r) => setTimeout(r, 1100)); // a later mtime: the phone's edit keeps the path
  await writeFile(join(b.root, 'plan.md'), 'phone, offline, later');
  await writeFile(join(a.root, 'made-offline.txt'), 'queued while the server was down');
  const status = JSON.parse(
    await waitFor('laptop sees itself offline with pending work', async () => {
      const out = await a.ok('status', a.root, '--json');
      const s = JSON.parse(out);
      return !s.online && s.pendingUp.files >= 1 ? out : false;
    }),
  );
  assert.equal(status.inSync, false);

  await server.start();
  const t = await convergedWith('both edits on both devices', (t) =>
    [...t.keys()].some((k) => k.startsWith('/plan (conflict from ')),
  );
  assert.equal(t.get('/plan.md'), sha('phone, offline, later'));
  const copies = [...t.keys()].filter((k) => k.startsWith('/plan (conflict from '));
  assert.equal(copies.length, 1);
  assert.match(copies[0], /^\/plan \(conflict from laptop \d{4}-\d{2}-\d{2} \d{6}\)\.md$/);
  assert.equal(t.get(copies[0]), sha('laptop, offline'));
  assert.equal(t.get('/made-offline.txt'), sha('queued while the server was down'));

  // The passes that failed while the server was down were reported once it was back.
  const laptop = await server.deviceId(a.name);
  const failed = await waitFor('the offline passes reported', async () => {
    const h = await server.adminGet<{ events: { status: string; error_message: string | null }[] }>(
      `/api/v1/devices/${laptop}/sync-history?limit=1000`,
    );
    return h.events.filter((e) => e.status === 'failed');
  });
  assert.ok(failed.length >= 1);
  assert.ok(failed.every((e) => typeof e.error_message === 'string' && e.error_message.length > 0));
});

test('a daemon killed with SIGKILL mid-upload resumes without resending: converges, no temp files, no duplicate versions', async () => {
  await a.stopDaemon();
  if (!b.daemon) b.startDaemon();
  const files = Array.from({ length: 40 }, (_, i) => ({
    name: `big/part-${i}.bin`,
    data: randomBytes(200_000),
  }));
  const total = files.reduce((n, f) => n + f.data.length, 0);
  await mkdir(join(a.root, 'big'), { recursive: true });
  for (const f of files) await writeFile(join(a.root, f.name), f.data);
  // 512 KiB/s up (bodies of 128 KiB): the 8 MB take about 16 s. Kill once 1 MiB has arrived.
  const before = await chunkBodiesReceived();
  a.startDaemon(['--limit-up', '512k']);
  await waitFor('1 MiB of chunks on the server', async () => (await chunkBodiesReceived()) >= before + 8);
  await a.stopDaemon('SIGKILL');
  const committed = JSON.parse(await b.ok('ls', '/big', '--json').catch(() => '[]')).length;
  assert.ok(committed < files.length, `killed mid-way (${committed} of ${files.length} committed)`);

  a.startDaemon();
  const t = await convergedWith('all parts on both', (t) => files.every((f) => t.has(`/${f.name}`)), 120_000);
  for (const f of files) assert.equal(t.get(`/${f.name}`), sha(f.data));
  const resent = sentBytes(a.daemonLog);
  assert.ok(
    resent <= total - 0.9 * 1024 * 1024,
    `the restarted daemon sent ${resent} of ${total} bytes: chunks that arrived are not sent again`,
  );
  for (const d of [a, b]) {
    const tmp = await readdir(join(d.root, '.ferry', 'tmp')).catch(() => []);
    assert.deepEqual(tmp, [], `${d.name} has no temp files`);
  }
  const listed = JSON.parse(await b.ok('ls', '/big', '--json')) as { path: string; version: number }[];
  assert.equal(listed.length, files.length);
  for (const e of listed) assert.equal(e.version, 1, `${e.path} has one version`);
});

/** Chunk upload bodies the server has accepted so far, from its Prometheus metrics. */
async function chunkBodiesReceived(): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const m = /^ferry_http_requests_total\{route="\/api\/v1\/chunks",method="POST",status="200"\} (\d+)/m.exec(
    text,
  );
  return m ? Number(m[1]) : 0;
}

/** Sums the "(N unit sent" figures of a daemon's pass lines. */
function sentBytes(log: string): number {
  const units: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3 };
  let n = 0;
  for (const m of log.matchAll(/\(([\d.]+) (B|KiB|MiB|GiB) sent/g)) n += Number(m[1]) * units[m[2]];
  return n;
}

test('put --evict queues files from anywhere and deletes them only once the server has them', async () => {
  const outside = await mkdtemp(join(tmpdir(), 'ferry-put-'));
  try {
    const photo = join(outside, 'IMG_0001.jpg');
    const bytes = randomBytes(150_000);
    await writeFile(photo, bytes);
    await server.stop();
    const queued = await a.cli('put', photo, '--to', '/Camera', '--evict');
    assert.notEqual(queued.code, 0, 'offline: the put is queued, not confirmed');
    assert.deepEqual(await readFile(photo), bytes, 'the local file stays while unconfirmed');
    await server.start();
    await a.ok('put'); // sends what is queued
    await assert.rejects(stat(photo), 'evicted after the server confirmed it');
    const listed = JSON.parse(await b.ok('ls', '/Camera', '--json')) as { path: string; size: number }[];
    assert.equal(listed.find((e) => e.path === '/Camera/IMG_0001.jpg')?.size, bytes.length);
    await b.ok('get', '/Camera/IMG_0001.jpg', join(outside, 'back.jpg'));
    assert.deepEqual(await readFile(join(outside, 'back.jpg')), bytes);
  } finally {
    await rm(outside, { recursive: true, force: true });
  }
});

test('offload keeps a placeholder with name and size; hydrate restores the verified bytes', async () => {
  await a.stopDaemon();
  await b.stopDaemon();
  const data = randomBytes(300_000);
  await writeFile(join(a.root, 'video.mp4'), data);
  await a.syncUntilClean();
  await a.ok('offload', join(a.root, 'video.mp4'));
  const st = await stat(join(a.root, 'video.mp4'));
  assert.equal(st.size, data.length, 'the placeholder keeps the size');
  assert.ok(st.blocks * 512 < data.length / 2, `the bytes are gone from the disk (${st.blocks} blocks)`);
  const status = JSON.parse(await a.ok('status', a.root, '--json'));
  assert.equal(status.inSync, true, 'offloading is not a local change to sync');
  await a.syncUntilClean();
  const remote = JSON.parse(await b.ok('ls', '/', '--json')) as { path: string; size: number }[];
  assert.equal(remote.find((e) => e.path === '/video.mp4')?.size, data.length, 'the server keeps it');
  await a.ok('hydrate', join(a.root, 'video.mp4'));
  assert.deepEqual(await readFile(join(a.root, 'video.mp4')), data);
});
