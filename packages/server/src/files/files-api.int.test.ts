// The file API over HTTP against the real server: the user journey of the issue, versions, trash,
// moves, Range downloads, multipart, dedup.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startTestServer, type TestServer } from '../testing/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer({ metricsStorageTtl: 0 }); // the dedup test reads fresh storage gauges
});
after(() => t.close());

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function upload(path: string, body: Uint8Array | string, token = t.adminToken, query = '') {
  const res = await t.request(`/api/v1/files/upload?path=${encodeURIComponent(path)}${query}`, {
    method: 'POST',
    token,
    body: body as BodyInit,
  });
  return { status: res.status, json: (await res.json()) as Record<string, any> };
}

test('upload, download byte-identical, second upload makes version 2, delete and restore', async () => {
  const v1 = randomBytes(300_000);
  const up = await upload('/journey/report.bin', v1);
  assert.equal(up.status, 200);
  assert.equal(up.json.contentHash, sha(v1));
  assert.equal(up.json.version, 1);

  const down = await t.request(`/api/v1/files/download?path=/journey/report.bin`, { token: t.adminToken });
  assert.equal(down.status, 200);
  assert.equal(down.headers.get('etag'), `"${sha(v1)}"`);
  assert.match(down.headers.get('content-disposition')!, /filename="report.bin"/);
  assert.deepEqual(Buffer.from(await down.arrayBuffer()), v1);

  const v2 = randomBytes(1000);
  const up2 = await upload('/journey/report.bin', v2);
  assert.equal(up2.json.id, up.json.id);
  assert.equal(up2.json.version, 2);
  const versions = await (
    await t.request(`/api/v1/files/${up.json.id}/versions`, { token: t.adminToken })
  ).json();
  assert.deepEqual(
    versions.versions.map((v: any) => v.version),
    [2, 1],
  );

  const del = await t.request(`/api/v1/files/${up.json.id}`, { method: 'DELETE', token: t.adminToken });
  assert.equal((await del.json()).deleted, true);
  assert.equal(
    (await t.request(`/api/v1/files/download?path=/journey/report.bin`, { token: t.adminToken })).status,
    404,
  );
  const trash = await (await t.request('/api/v1/trash', { token: t.adminToken })).json();
  assert.ok(trash.entries.some((e: any) => e.id === up.json.id));

  const restored = await t.request(`/api/v1/trash/${up.json.id}/restore`, {
    method: 'POST',
    token: t.adminToken,
  });
  assert.equal((await restored.json()).path, '/journey/report.bin');
  const back = await t.request(`/api/v1/files/download?path=/journey/report.bin`, { token: t.adminToken });
  assert.deepEqual(Buffer.from(await back.arrayBuffer()), v2);

  // Restore version 1 as a new version 5 (4 was the undelete).
  const rv = await t.request(`/api/v1/files/${up.json.id}/restore`, {
    method: 'POST',
    token: t.adminToken,
    json: { version: 1 },
  });
  const rj = await rv.json();
  assert.equal(rj.contentHash, sha(v1));
  assert.equal(rj.version, 5);
});

test('an empty file uploads with or without a content type and downloads empty', async () => {
  for (const [name, headers] of [
    ['bare.txt', {}],
    ['typed.txt', { 'content-type': 'application/octet-stream' }],
  ] as const) {
    const res = await t.request(`/api/v1/files/upload?path=/empty/${name}`, {
      method: 'POST',
      token: t.adminToken,
      headers,
      body: new Uint8Array(0),
    });
    assert.equal(res.status, 200, `${name}: ${await res.clone().text()}`);
    const info = (await res.json()) as { size: number; contentHash: string };
    assert.equal(info.size, 0);
    assert.equal(info.contentHash, sha(new Uint8Array(0)));
    const down = await t.request(`/api/v1/files/download?path=/empty/${name}`, { token: t.adminToken });
    assert.equal(down.status, 200);
    assert.equal((await down.arrayBuffer()).byteLength, 0);
  }
});

test('Range requests, conditional GET and download by id', async () => {
  const data = randomBytes(200_000);
  const up = await upload('/range.bin', data);
  const r = await t.request(`/api/v1/files/download?id=${up.json.id}`, {
    token: t.adminToken,
    headers: { range: 'bytes=1000-70999' },
  });
  assert.equal(r.status, 206);
  assert.equal(r.headers.get('content-range'), `bytes 1000-70999/${data.length}`);
  assert.deepEqual(Buffer.from(await r.arrayBuffer()), data.subarray(1000, 71000));
  const suffix = await t.request(`/api/v1/files/download?id=${up.json.id}`, {
    token: t.adminToken,
    headers: { range: 'bytes=-10' },
  });
  assert.deepEqual(Buffer.from(await suffix.arrayBuffer()), data.subarray(data.length - 10));
  const bad = await t.request(`/api/v1/files/download?id=${up.json.id}`, {
    token: t.adminToken,
    headers: { range: 'bytes=999999-' },
  });
  assert.equal(bad.status, 416);
  const notModified = await t.request(`/api/v1/files/download?id=${up.json.id}`, {
    token: t.adminToken,
    headers: { 'if-none-match': `"${sha(data)}"` },
  });
  assert.equal(notModified.status, 304);
});

test('multipart upload with a path field; parent folders are created', async () => {
  const form = new FormData();
  form.append('path', '/deep/er/photo.jpg');
  form.append('file', new Blob([Buffer.from('jpeg bytes')]), 'photo.jpg');
  const res = await t.request('/api/v1/files/upload', { method: 'POST', token: t.adminToken, body: form });
  assert.equal(res.status, 200);
  const list = await (
    await t.request('/api/v1/files/list?path=/deep&recursive=true', { token: t.adminToken })
  ).json();
  assert.deepEqual(
    list.entries.map((e: any) => [e.path, e.kind]),
    [
      ['/deep/er', 'dir'],
      ['/deep/er/photo.jpg', 'file'],
    ],
  );
});

test('identical content is stored once: a second 50 MB upload adds no chunk bytes', async () => {
  const big = randomBytes(50 * 1024 * 1024);
  await upload('/dedup/one.bin', big);
  const physical = async () => {
    const text = await (await t.request('/metrics')).text();
    return Number(/ferry_stored_bytes\{kind="physical"\} (\d+)/.exec(text)![1]);
  };
  const before = await physical();
  const second = await upload('/dedup/two.bin', big);
  assert.equal(second.status, 200);
  assert.equal(await physical(), before);
});

test('move, rename a folder with its contents, mkdir, list paging, search', async () => {
  await upload('/mv/a/one.txt', 'one');
  await upload('/mv/a/two.txt', 'two');
  const dir = await (await t.request('/api/v1/files/list?path=/mv', { token: t.adminToken })).json();
  const a = dir.entries.find((e: any) => e.path === '/mv/a');
  const moved = await t.request(`/api/v1/files/${a.id}/move`, {
    method: 'POST',
    token: t.adminToken,
    json: { path: '/mv/b' },
  });
  assert.equal((await moved.json()).path, '/mv/b');
  const all = await (
    await t.request('/api/v1/files/list?path=/mv&recursive=true', { token: t.adminToken })
  ).json();
  assert.deepEqual(
    all.entries.map((e: any) => e.path),
    ['/mv/b', '/mv/b/one.txt', '/mv/b/two.txt'],
  );
  const into = await t.request(`/api/v1/files/${a.id}/move`, {
    method: 'POST',
    token: t.adminToken,
    json: { path: '/mv/b/inner' },
  });
  assert.equal(into.status, 400);

  const mk = await t.request('/api/v1/files/mkdir', {
    method: 'POST',
    token: t.adminToken,
    json: { path: '/mv/empty' },
  });
  assert.equal((await mk.json()).kind, 'dir');
  const p1 = await (
    await t.request('/api/v1/files/list?path=/mv&recursive=true&limit=2', { token: t.adminToken })
  ).json();
  assert.equal(p1.entries.length, 2);
  const p2 = await (
    await t.request(`/api/v1/files/list?path=/mv&recursive=true&limit=2&cursor=${p1.cursor}`, {
      token: t.adminToken,
    })
  ).json();
  assert.deepEqual(
    p2.entries.map((e: any) => e.path),
    ['/mv/b/two.txt', '/mv/empty'],
  );
  const found = await (await t.request('/api/v1/files/search?q=TWO.TXT', { token: t.adminToken })).json();
  assert.deepEqual(
    found.entries.map((e: any) => e.path),
    ['/mv/b/two.txt'],
  );
});

test('deleting a folder trashes its contents; restoring it brings them back', async () => {
  await upload('/tf/x/1.txt', '1');
  await upload('/tf/x/2.txt', '2');
  const x = await (await t.request('/api/v1/files/list?path=/tf', { token: t.adminToken })).json();
  await t.request(`/api/v1/files/${x.entries[0].id}`, { method: 'DELETE', token: t.adminToken });
  const trash = await (await t.request('/api/v1/trash', { token: t.adminToken })).json();
  const tf = trash.entries.filter((e: any) => e.path.startsWith('/tf'));
  assert.deepEqual(
    tf.map((e: any) => e.path),
    ['/tf/x'],
    'the folder stands for its contents',
  );
  await t.request(`/api/v1/trash/${x.entries[0].id}/restore`, { method: 'POST', token: t.adminToken });
  const back = await (
    await t.request('/api/v1/files/list?path=/tf&recursive=true', { token: t.adminToken })
  ).json();
  assert.deepEqual(
    back.entries.map((e: any) => e.path),
    ['/tf/x', '/tf/x/1.txt', '/tf/x/2.txt'],
  );
});

test('every change advances the space seq', async () => {
  const spaces = async () =>
    (await (await t.request('/api/v1/spaces', { token: t.adminToken })).json()).spaces[0].headSeq as number;
  const s0 = await spaces();
  await upload('/seq.txt', 'a');
  const s1 = await spaces();
  await upload('/seq.txt', 'b');
  assert.ok(s1 > s0 && (await spaces()) === s1 + 1);
});

test('spaces: create, members with roles enforced (viewer cannot write)', async () => {
  const bob = await t.user('bob-spaces');
  const created = await t.request('/api/v1/spaces', {
    method: 'POST',
    token: t.adminToken,
    json: { name: 'team' },
  });
  assert.equal(created.status, 201);
  const team = await created.json();
  assert.equal((await t.request(`/api/v1/files/list?space=${team.id}`, { token: bob.token })).status, 404);
  await t.request(`/api/v1/spaces/${team.id}/members`, {
    method: 'PUT',
    token: t.adminToken,
    json: { username: 'bob-spaces', role: 'viewer' },
  });
  assert.equal((await t.request(`/api/v1/files/list?space=${team.id}`, { token: bob.token })).status, 200);
  const denied = await upload('/x.txt', 'x', bob.token, `&space=${team.id}`);
  assert.equal(denied.status, 403);
  await t.request(`/api/v1/spaces/${team.id}/members`, {
    method: 'PUT',
    token: t.adminToken,
    json: { username: 'bob-spaces', role: 'editor' },
  });
  assert.equal((await upload('/x.txt', 'x', bob.token, `&space=${team.id}`)).status, 200);
  // By name, a shared space resolves too when the caller owns none of that name.
  assert.equal((await upload('/y.txt', 'y', bob.token, `&space=team`)).status, 200);
});
