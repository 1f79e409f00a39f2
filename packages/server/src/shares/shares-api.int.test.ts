// Share links over HTTP against the real server: create, public metadata and download signed out,
// password, expiry, download limit and counting, folders, revoke, and what other users may not do.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../testing/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

async function upload(path: string, body: Uint8Array, token = t.adminToken) {
  const res = await t.request(`/api/v1/files/upload?path=${encodeURIComponent(path)}`, {
    method: 'POST',
    token,
    body: body as BodyInit,
  });
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as { id: string };
}

async function share(json: Record<string, unknown>, token = t.adminToken) {
  const res = await t.request('/api/v1/shares', { method: 'POST', token, json });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
}

const pub = (token: string, suffix = '', init: RequestInit = {}) =>
  t.request(`/api/v1/public/shares/${token}${suffix}`, init);
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;

test('a share link downloads byte-identical without an account and counts downloads', async () => {
  const data = randomBytes(70_000);
  await upload('/share/photo.jpg', data);
  const { status, body } = await share({ path: '/share/photo.jpg' });
  assert.equal(status, 201);
  assert.match(body.token, /^[A-Za-z0-9_-]{43}$/, '256-bit base64url token');
  assert.equal(body.url, `${t.url}/s/${body.token}`);
  assert.equal(body.hasPassword, false);

  const meta = await pub(body.token);
  assert.equal(meta.status, 200);
  const m = (await meta.json()) as Record<string, unknown>;
  assert.equal(typeof m.mtime, 'number');
  assert.deepEqual(
    { ...m, mtime: 0 },
    { name: 'photo.jpg', kind: 'file', size: 70_000, mtime: 0, expiresAt: null, downloadsLeft: null },
  );

  const dl = await pub(body.token, '/download');
  assert.equal(dl.status, 200);
  assert.deepEqual(Buffer.from(await dl.arrayBuffer()), data);

  const list = (await (await t.request('/api/v1/shares', { token: t.adminToken })).json()) as {
    shares: any[];
  };
  const mine = list.shares.find((s) => s.id === body.id);
  assert.equal(mine.downloads, 1);
  assert.equal(mine.token, undefined, 'the token is never listed');
});

test('the token is stored hashed, not in clear', async () => {
  await upload('/share/secret.txt', Buffer.from('x'));
  const { body } = await share({ path: '/share/secret.txt' });
  const driver = (
    t.server.stores.meta as unknown as { driver: { all(sql: string): Promise<Record<string, unknown>[]> } }
  ).driver;
  const rows = await driver.all('SELECT * FROM shares');
  assert.ok(rows.length > 0);
  assert.ok(!JSON.stringify(rows).includes(body.token));
});

test('password: required, wrong, right (header or query)', async () => {
  const data = Buffer.from('classified');
  await upload('/share/pw.txt', data);
  const { body } = await share({ path: '/share/pw.txt', password: 'hunter22' });
  assert.equal(body.hasPassword, true);
  let res = await pub(body.token);
  assert.equal(res.status, 401);
  assert.equal(await code(res), 'PASSWORD_REQUIRED');
  res = await pub(body.token, '', { headers: { 'x-share-password': 'nope' } });
  assert.equal(res.status, 401);
  assert.equal(await code(res), 'WRONG_PASSWORD');
  res = await pub(body.token, '/download');
  assert.equal(await code(res), 'PASSWORD_REQUIRED');
  res = await pub(body.token, '', { headers: { 'x-share-password': 'hunter22' } });
  assert.equal(res.status, 200);
  res = await pub(body.token, '/download?password=hunter22');
  assert.equal(res.status, 200);
  assert.equal(await res.text(), 'classified');
});

test('download limit: the last allowed download works, the next one is refused', async () => {
  await upload('/share/limited.bin', randomBytes(1000));
  const { body } = await share({ path: '/share/limited.bin', maxDownloads: 2 });
  assert.equal((await (await pub(body.token)).json()).downloadsLeft, 2);
  assert.equal((await pub(body.token, '/download')).status, 200);
  assert.equal((await pub(body.token, '/download')).status, 200);
  const third = await pub(body.token, '/download');
  assert.equal(third.status, 410);
  assert.equal(await code(third), 'DOWNLOAD_LIMIT_REACHED');
  assert.equal((await (await pub(body.token)).json()).downloadsLeft, 0);
});

test('parallel downloads never exceed the limit', async () => {
  await upload('/share/race.bin', randomBytes(5000));
  const { body } = await share({ path: '/share/race.bin', maxDownloads: 3 });
  const results = await Promise.all(
    Array.from({ length: 10 }, () =>
      pub(body.token, '/download').then(async (r) => (await r.arrayBuffer(), r.status)),
    ),
  );
  assert.equal(results.filter((s) => s === 200).length, 3);
  assert.equal(results.filter((s) => s === 410).length, 7);
});

test('expired links answer SHARE_EXPIRED; past expiry is refused at creation', async () => {
  await upload('/share/soon.txt', Buffer.from('soon'));
  const { body } = await share({ path: '/share/soon.txt', expiresAt: Date.now() + 300 });
  assert.equal((await pub(body.token)).status, 200);
  await new Promise((r) => setTimeout(r, 400));
  const res = await pub(body.token, '/download');
  assert.equal(res.status, 410);
  assert.equal(await code(res), 'SHARE_EXPIRED');
  const bad = await share({ path: '/share/soon.txt', expiresAt: Date.now() - 1000 });
  assert.equal(bad.status, 400);
});

test('a shared folder lists its files and serves one by relative path, never outside it', async () => {
  await upload('/album/a.jpg', Buffer.from('A'));
  await upload('/album/sub/b.jpg', Buffer.from('BB'));
  await upload('/outside.txt', Buffer.from('no'));
  const { body } = await share({ path: '/album' });
  assert.equal(body.kind, 'dir');
  const meta = (await (await pub(body.token)).json()) as { entries: { path: string }[] };
  assert.deepEqual(meta.entries.map((e) => e.path).sort(), ['a.jpg', 'sub', 'sub/b.jpg']);
  assert.equal(await (await pub(body.token, '/download?path=sub/b.jpg')).text(), 'BB');
  assert.equal((await pub(body.token, '/download?path=../outside.txt')).status, 400);
  assert.equal((await pub(body.token, '/download')).status, 409);
});

test('revoke: the link stops working; other users can neither see nor revoke it', async () => {
  await upload('/share/rev.txt', Buffer.from('r'));
  const { body } = await share({ path: '/share/rev.txt' });
  const bob = await t.user('bob');
  const bobList = (await (await t.request('/api/v1/shares', { token: bob.token })).json()) as {
    shares: unknown[];
  };
  assert.equal(bobList.shares.length, 0);
  const bobDel = await t.request(`/api/v1/shares/${body.id}`, { method: 'DELETE', token: bob.token });
  assert.equal(bobDel.status, 404);
  // Bob cannot share a path of the admin's space either: his default space has no such file.
  assert.equal((await share({ path: '/share/rev.txt' }, bob.token)).status, 404);

  const del = await t.request(`/api/v1/shares/${body.id}`, { method: 'DELETE', token: t.adminToken });
  assert.equal(del.status, 204);
  assert.equal((await pub(body.token)).status, 404);
  assert.equal((await pub(body.token, '/download')).status, 404);
});

test('a link to a file that went to the trash is gone; unknown and malformed tokens are 404/400', async () => {
  const f = await upload('/share/trashed.txt', Buffer.from('t'));
  const { body } = await share({ path: '/share/trashed.txt' });
  await t.request(`/api/v1/files/${f.id}`, { method: 'DELETE', token: t.adminToken });
  assert.equal((await pub(body.token)).status, 404);
  assert.equal((await pub('A'.repeat(43))).status, 404);
  assert.equal((await pub('bad token!')).status, 400);
});

test('creating needs a session and valid input', async () => {
  assert.equal((await t.request('/api/v1/shares', { method: 'POST', json: { path: '/x' } })).status, 401);
  assert.equal((await share({ path: '/share/none.txt' })).status, 404);
  assert.equal((await share({ path: '/x', extra: 1 })).status, 400);
  assert.equal((await share({ path: '/x', maxDownloads: 0 })).status, 400);
});
