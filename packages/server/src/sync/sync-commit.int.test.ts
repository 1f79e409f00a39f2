// The batched commit over HTTP: idempotency, fast-forward, noop, conflict copies and their names,
// delete vs modify, renames without chunks, chunk-list deltas, manifests.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import {
  decodeManifestDelta,
  encodeManifestDelta,
  packRefs,
  readManifestDeltaHeader,
  toBase64,
  unpackRefs,
} from '@ferry/core/manifest-delta';
import { startTestServer, type TestServer } from '../testing/test-server.ts';
import { changes, commit, content, loginDevice, op, sha256, text } from './sync-test-kit.ts';

let t: TestServer;
let laptop: { token: string; deviceId: string };
let phone: { token: string; deviceId: string };
const S = 'default';

before(async () => {
  t = await startTestServer();
  await t.user('carol', 'carol-password');
  laptop = await loginDevice(t, 'carol', 'carol-password', 'laptop');
  phone = await loginDevice(t, 'carol', 'carol-password', 'phone');
});
after(() => t.close());

const at = (iso: string) => Date.parse(iso);

async function create(path: string, body: string, mtime = Date.now(), token = laptop.token) {
  const c = await content(t, token, text(body));
  const r = await commit(t, token, S, [{ opId: op(), path, kind: 'file', baseVersionId: null, mtime, ...c }]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.results[0];
}

async function download(path: string): Promise<string | undefined> {
  const res = await t.request(`/api/v1/files/download?path=${encodeURIComponent(path)}`, {
    token: laptop.token,
  });
  return res.status === 200 ? res.text() : undefined;
}

void test('a replayed opId returns the original result and writes nothing', async () => {
  const c = await content(t, laptop.token, text('once'));
  const change = { opId: op(), path: '/once.txt', kind: 'file', baseVersionId: null, mtime: 1, ...c };
  const first = await commit(t, laptop.token, S, [change]);
  assert.equal(first.body.results[0].status, 'ok');
  const again = await commit(t, laptop.token, S, [change]);
  assert.deepEqual(again.body.results, first.body.results);
  assert.equal(again.body.headSeq, first.body.headSeq);
  const feed = await changes(t, laptop.token, S);
  assert.equal(feed.changes.filter((x) => x.path === '/once.txt').length, 1);
});

void test('fast-forward, then a stale base with the same content is a noop', async () => {
  const v1 = await create('/ff.txt', 'one');
  const c2 = await content(t, laptop.token, text('two'));
  const ff = await commit(t, laptop.token, S, [
    { opId: op(), fileId: v1.fileId, path: '/ff.txt', kind: 'file', baseVersionId: v1.versionId, ...c2 },
  ]);
  assert.equal(ff.body.results[0].status, 'ok');
  assert.equal(ff.body.results[0].version, 2);
  const same = await commit(t, phone.token, S, [
    { opId: op(), fileId: v1.fileId, path: '/ff.txt', kind: 'file', baseVersionId: v1.versionId, ...c2 },
  ]);
  assert.equal(same.body.results[0].status, 'noop');
  assert.equal(same.body.results[0].versionId, ff.body.results[0].versionId);
  assert.equal(await download('/ff.txt'), 'two');
});

void test('diverged edits: the older mtime becomes a conflict copy named after its device and mtime (UTC)', async () => {
  const v1 = await create('/notes/plan.md', 'base', at('2024-01-01T00:00:00Z'));
  const a = await content(t, laptop.token, text('laptop edit'));
  const ra = await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/notes/plan.md',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime: at('2024-03-05T10:20:30Z'),
      ...a,
    },
  ]);
  assert.equal(ra.body.results[0].status, 'ok');
  // The phone edited the same base offline, earlier: it loses the path.
  const b = await content(t, phone.token, text('phone edit'));
  const rb = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/notes/plan.md',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime: at('2024-03-04T08:09:10Z'),
      ...b,
    },
  ]);
  const r = rb.body.results[0];
  assert.equal(r.status, 'conflict');
  assert.equal(r.reason, 'diverged');
  assert.equal(r.conflictPath, '/notes/plan (conflict from phone 2024-03-04 080910).md');
  assert.equal(r.path, r.conflictPath);
  assert.notEqual(r.fileId, v1.fileId);
  assert.equal(await download('/notes/plan.md'), 'laptop edit');
  assert.equal(await download(r.conflictPath), 'phone edit');
});

void test('diverged edits: a newer incoming edit keeps the path and the head moves to the copy', async () => {
  const v1 = await create('/b.txt', 'base', at('2024-01-01T00:00:00Z'));
  const a = await content(t, laptop.token, text('laptop'));
  await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/b.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime: at('2024-02-01T00:00:00Z'),
      ...a,
    },
  ]);
  const b = await content(t, phone.token, text('phone'));
  const rb = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/b.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime: at('2024-02-02T00:00:00Z'),
      ...b,
    },
  ]);
  const r = rb.body.results[0];
  assert.equal(r.status, 'conflict');
  assert.equal(r.path, '/b.txt');
  assert.equal(r.fileId, v1.fileId);
  assert.equal(r.conflictPath, '/b (conflict from laptop 2024-02-01 000000).txt');
  assert.equal(await download('/b.txt'), 'phone');
  assert.equal(await download(r.conflictPath), 'laptop');
});

void test('equal mtimes: the larger device id keeps the path', async () => {
  const mtime = at('2024-05-05T05:05:05Z');
  const v1 = await create('/tie.txt', 'base', mtime - 1000);
  const [big, small] = laptop.deviceId > phone.deviceId ? [laptop, phone] : [phone, laptop];
  await commit(t, small.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/tie.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime,
      ...(await content(t, small.token, text('small'))),
    },
  ]);
  const r = await commit(t, big.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/tie.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      mtime,
      ...(await content(t, big.token, text('big'))),
    },
  ]);
  assert.equal(r.body.results[0].path, '/tie.txt');
  assert.equal(await download('/tie.txt'), 'big');
});

void test('a create at a taken path with other content makes a conflict copy; same content is a noop', async () => {
  await create('/taken.txt', 'first', at('2024-06-01T00:00:00Z'));
  const same = await commit(t, phone.token, S, [
    {
      opId: op(),
      path: '/taken.txt',
      kind: 'file',
      baseVersionId: null,
      ...(await content(t, phone.token, text('first'))),
    },
  ]);
  assert.equal(same.body.results[0].status, 'noop');
  const other = await commit(t, phone.token, S, [
    {
      opId: op(),
      path: '/taken.txt',
      kind: 'file',
      baseVersionId: null,
      mtime: at('2024-05-01T00:00:00Z'),
      ...(await content(t, phone.token, text('second'))),
    },
  ]);
  assert.equal(other.body.results[0].status, 'conflict');
  assert.equal(other.body.results[0].path, '/taken (conflict from phone 2024-05-01 000000).txt');
  assert.equal(await download('/taken.txt'), 'first');
});

void test('a delete racing a modification loses; a delete from the head applies', async () => {
  const v1 = await create('/dm.txt', 'base');
  await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/dm.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      ...(await content(t, laptop.token, text('modified'))),
    },
  ]);
  const del = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/dm.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      deleted: true,
    },
  ]);
  assert.equal(del.body.results[0].status, 'conflict');
  assert.equal(del.body.results[0].reason, 'delete-vs-modify');
  assert.equal(await download('/dm.txt'), 'modified');
  const head = del.body.results[0];
  const ok = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/dm.txt',
      kind: 'file',
      baseVersionId: head.versionId,
      deleted: true,
    },
  ]);
  assert.equal(ok.body.results[0].status, 'ok');
  assert.equal(await download('/dm.txt'), undefined);
});

void test('a modification racing a delete wins: the file comes back', async () => {
  const v1 = await create('/md.txt', 'base');
  await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/md.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      deleted: true,
    },
  ]);
  const r = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/md.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      ...(await content(t, phone.token, text('kept'))),
    },
  ]);
  assert.equal(r.body.results[0].status, 'ok');
  assert.equal(r.body.results[0].reason, 'resurrected');
  assert.equal(await download('/md.txt'), 'kept');
});

void test('a rename sends no chunks, records prevPath, and merges with a concurrent edit', async () => {
  const v1 = await create('/old-name.txt', 'content');
  const before = (await changes(t, laptop.token, S)).headSeq;
  const mv = await commit(t, laptop.token, S, [
    { opId: op(), fileId: v1.fileId, path: '/moved/new-name.txt', kind: 'file', baseVersionId: v1.versionId },
  ]);
  assert.equal(mv.body.results[0].status, 'ok');
  const feed = await changes(t, laptop.token, S, `?since=${before}`);
  const moved = feed.changes.find((x) => x.fileId === v1.fileId)!;
  assert.equal(moved.prevPath, '/old-name.txt');
  assert.equal(moved.contentHash, sha256(text('content')));
  assert.ok(feed.changes.some((x) => x.path === '/moved' && x.kind === 'dir'));
  // The phone edits the old path from the old base: content and rename both survive.
  const edit = await commit(t, phone.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/old-name.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      ...(await content(t, phone.token, text('edited'))),
    },
  ]);
  assert.equal(edit.body.results[0].status, 'ok');
  assert.equal(edit.body.results[0].path, '/moved/new-name.txt');
  assert.equal(await download('/moved/new-name.txt'), 'edited');
});

void test('deleting a folder deletes what is inside; a per-entry child delete afterwards is a noop', async () => {
  const dir = await commit(t, laptop.token, S, [
    { opId: op(), path: '/trip', kind: 'dir', baseVersionId: null },
  ]);
  const f = await create('/trip/photo.jpg', 'jpeg');
  const d = dir.body.results[0];
  const r = await commit(t, laptop.token, S, [
    { opId: op(), fileId: d.fileId, path: '/trip', kind: 'dir', baseVersionId: d.versionId, deleted: true },
    {
      opId: op(),
      fileId: f.fileId,
      path: '/trip/photo.jpg',
      kind: 'file',
      baseVersionId: f.versionId,
      deleted: true,
    },
  ]);
  assert.deepEqual(
    r.body.results.map((x) => x.status),
    ['ok', 'noop'],
  );
  assert.equal(await download('/trip/photo.jpg'), undefined);
});

void test('one batch that fills a folder, deletes it and fills it again ends with the folder and the last file', async () => {
  const dir = await commit(t, laptop.token, S, [
    { opId: op(), path: '/album', kind: 'dir', baseVersionId: null },
  ]);
  const d = dir.body.results[0];
  const first = await content(t, laptop.token, text('first'));
  const last = await content(t, laptop.token, text('last'));
  const r = await commit(t, laptop.token, S, [
    { opId: op(), path: '/album/first.txt', kind: 'file', baseVersionId: null, mtime: Date.now(), ...first },
    { opId: op(), fileId: d.fileId, path: '/album', kind: 'dir', baseVersionId: d.versionId, deleted: true },
    { opId: op(), path: '/album/last.txt', kind: 'file', baseVersionId: null, mtime: Date.now(), ...last },
  ]);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  assert.deepEqual(
    r.body.results.map((x) => x.status),
    ['ok', 'ok', 'ok'],
  );
  assert.equal(await download('/album/first.txt'), undefined, 'deleted with its folder');
  assert.equal(await download('/album/last.txt'), 'last');
  const listed = await t.request('/api/v1/files/list?path=/album', { token: laptop.token });
  assert.equal(listed.status, 200, 'the folder exists again, made for the last file');
  const body = (await listed.json()) as { entries: { path: string }[] };
  assert.deepEqual(
    body.entries.map((e) => e.path),
    ['/album/last.txt'],
  );
});

void test('per-change refusals do not fail the batch; a parent that is a file is rejected', async () => {
  await create('/plain', 'a file');
  const r = await commit(t, laptop.token, S, [
    {
      opId: op(),
      path: '/plain/child.txt',
      kind: 'file',
      baseVersionId: null,
      ...(await content(t, laptop.token, text('x'))),
    },
    {
      opId: op(),
      path: '/fine.txt',
      kind: 'file',
      baseVersionId: null,
      ...(await content(t, laptop.token, text('y'))),
    },
    {
      opId: op(),
      fileId: randomUUID(),
      path: '/ghost.txt',
      kind: 'file',
      baseVersionId: null,
      deleted: true,
    },
  ]);
  assert.deepEqual(
    r.body.results.map((x) => [x.status, x.error?.code]),
    [
      ['rejected', 'NOT_A_DIRECTORY'],
      ['ok', undefined],
      ['rejected', 'NOT_FOUND'],
    ],
  );
});

void test('bad changes fail the whole batch: path rules, duplicate opIds, viewers', async () => {
  const c = await content(t, laptop.token, text('z'));
  const bad = await commit(t, laptop.token, S, [
    { opId: op(), path: '../etc/passwd', kind: 'file', baseVersionId: null, ...c },
  ]);
  assert.equal(bad.body.error?.code, 'INVALID_PATH');
  const id = op();
  const dup = await commit(t, laptop.token, S, [
    { opId: id, path: '/d1', kind: 'dir', baseVersionId: null },
    { opId: id, path: '/d2', kind: 'dir', baseVersionId: null },
  ]);
  assert.equal(dup.status, 400);
  const other = await t.user('dave');
  const denied = await commit(t, other.token, 'default', [
    { opId: op(), path: '/x', kind: 'dir', baseVersionId: null },
  ]);
  assert.equal(denied.status, 200); // dave's own default space
  const spaces = (await (await t.request('/api/v1/spaces', { token: laptop.token })).json()) as {
    spaces: { id: string }[];
  };
  const foreign = await commit(t, other.token, spaces.spaces[0].id, [
    { opId: op(), path: '/x', kind: 'dir', baseVersionId: null },
  ]);
  assert.equal(foreign.status, 404);
});

void test('quota: a commit that takes the owner over quota is refused whole', async () => {
  const eve = await t.user('eve');
  const set = await t.request(`/api/v1/users/${eve.userId}`, {
    method: 'PATCH',
    token: t.adminToken,
    json: { quotaBytes: 1000 },
  });
  if (set.status !== 200) await t.server.stores.meta.users.setQuota(eve.userId, 1000);
  const big = await content(t, eve.token, randomBytes(2000));
  const r = await commit(t, eve.token, 'default', [
    { opId: op(), path: '/big.bin', kind: 'file', baseVersionId: null, ...big },
  ]);
  assert.equal(r.status, 413);
  assert.equal(r.body.error?.code, 'QUOTA_EXCEEDED');
});

void test('chunksDelta against the base manifest, and manifest deltas on the way down', async () => {
  const base = randomBytes(300_000);
  const c1 = await content(t, laptop.token, base);
  const v1 = (
    await commit(t, laptop.token, S, [
      { opId: op(), path: '/big.bin', kind: 'file', baseVersionId: null, ...c1 },
    ])
  ).body.results[0];
  const edited = Buffer.concat([
    base.subarray(0, 150_000),
    Buffer.from('0123456789'),
    base.subarray(150_000),
  ]);
  const c2 = await content(t, laptop.token, edited);
  const packed1 = packRefs(c1.chunks);
  const packed2 = packRefs(c2.chunks);
  const m1 = sha256(packed1);
  const m2 = sha256(packed2);
  const delta = encodeManifestDelta(packed2, packed1, { baseId: m1, targetId: m2 });
  assert.ok(delta.length < 400);
  const r = await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/big.bin',
      kind: 'file',
      baseVersionId: v1.versionId,
      size: c2.size,
      contentHash: c2.contentHash,
      chunksDelta: toBase64(delta),
    },
  ]);
  assert.equal(r.body.results[0].status, 'ok', JSON.stringify(r.body));
  const dl = Buffer.from(
    await (await t.request('/api/v1/files/download?path=/big.bin', { token: laptop.token })).arrayBuffer(),
  );
  assert.equal(sha256(dl), c2.contentHash);
  // Down: the manifest against the one the device has.
  const res = await t.request(`/api/v1/spaces/${S}/manifests/${m2}?base=${m1}`, { token: phone.token });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('x-ferry-manifest-base'), m1);
  const body = new Uint8Array(await res.arrayBuffer());
  assert.ok(body.length < 400);
  assert.deepEqual(unpackRefs(decodeManifestDelta(body, packed1)), c2.chunks);
  const full = new Uint8Array(
    await (await t.request(`/api/v1/spaces/${S}/manifests/${m2}`, { token: phone.token })).arrayBuffer(),
  );
  assert.equal(readManifestDeltaHeader(full).baseId, null);
  assert.deepEqual(decodeManifestDelta(full, null), packed2);
  // Seed route: the same delta by file and version number.
  const seed = await t.request(`/api/v1/sync/delta?fileId=${v1.fileId}&baseVersion=1`, {
    token: phone.token,
  });
  assert.deepEqual(decodeManifestDelta(new Uint8Array(await seed.arrayBuffer()), packed1), packed2);
  // Many at once.
  const many = await t.request(`/api/v1/spaces/${S}/manifests/get`, {
    method: 'POST',
    token: phone.token,
    json: { items: [{ id: m1 }, { id: m2, base: m1 }] },
  });
  assert.equal(((await many.json()) as { manifests: unknown[] }).manifests.length, 2);
  // A wrong base is refused rather than misapplied.
  const wrong = encodeManifestDelta(packed2, packed2, { baseId: m2, targetId: m2 });
  const rw = await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/big.bin',
      kind: 'file',
      baseVersionId: v1.versionId,
      size: c2.size,
      contentHash: c2.contentHash,
      chunksDelta: toBase64(wrong),
    },
  ]);
  assert.equal(rw.body.error?.code, 'DELTA_BASE_UNKNOWN');
});

void test('an older version written by a sync commit can be restored through the file API', async () => {
  const v1 = await create('/restore-me.txt', 'first');
  const c2 = await content(t, laptop.token, text('second'));
  await commit(t, laptop.token, S, [
    {
      opId: op(),
      fileId: v1.fileId,
      path: '/restore-me.txt',
      kind: 'file',
      baseVersionId: v1.versionId,
      ...c2,
    },
  ]);
  const res = await t.request(`/api/v1/files/${v1.fileId}/restore`, {
    method: 'POST',
    token: laptop.token,
    json: { version: 1 },
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).version, 3);
  assert.equal(await download('/restore-me.txt'), 'first');
});

void test('a conflict is announced once as a conflict.detected domain event', async () => {
  const seen: { path: string; conflictPath: string }[] = [];
  const off = t.server.events.on('conflict.detected', (e) => seen.push(e));
  try {
    const v1 = await create('/event.txt', 'base');
    for (const [who, body, mtime] of [
      [laptop, 'laptop side', 2_000],
      [phone, 'phone side', 1_000],
    ] as const) {
      const c = await content(t, who.token, text(body));
      await commit(t, who.token, S, [
        {
          opId: op(),
          fileId: v1.fileId,
          path: '/event.txt',
          kind: 'file',
          baseVersionId: v1.versionId,
          mtime,
          ...c,
        },
      ]);
    }
    assert.equal(seen.length, 1);
    assert.equal(seen[0].path, '/event.txt');
    assert.match(seen[0].conflictPath, /^\/event \(conflict from phone /);
  } finally {
    off();
  }
});

void test('sync/status shows how far each device has pulled (recorded without holding up the pull)', async () => {
  await create(`/status-${op()}.txt`, 'one');
  const status = async (token: string) => {
    const res = await t.request(`/api/v1/sync/status?space=${S}`, { token });
    assert.equal(res.status, 200);
    const body = (await res.json()) as {
      spaces: { headSeq: number; cursor: number | null; pending: number | null }[];
    };
    return body.spaces[0];
  };
  /** The cursor is written after the answer: wait (briefly) until status shows it. */
  const settled = async (token: string, cursor: number) => {
    for (let i = 0; i < 50; i++) {
      const s = await status(token);
      if (s.cursor === cursor) return s;
      await new Promise((r) => setTimeout(r, 20));
    }
    return status(token);
  };
  const first = await changes(t, phone.token, S, '?since=0');
  const behind = await settled(phone.token, 0);
  assert.equal(behind.pending, first.headSeq, 'asked from 0: everything was pending');
  await changes(t, phone.token, S, `?since=${first.headSeq}`);
  const caughtUp = await settled(phone.token, first.headSeq);
  assert.equal(caughtUp.pending, 0);
});
