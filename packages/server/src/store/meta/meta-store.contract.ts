// The behaviour every MetaStore must have. SQLite and PostgreSQL both run it (meta-stores.int.test.ts).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { MetaStore } from './meta-store.ts';
import type { FileEntry, Version } from './types.ts';

function entry(spaceId: string, path: string, seq: number, over: Partial<FileEntry> = {}): FileEntry {
  return {
    id: randomUUID(),
    spaceId,
    path,
    kind: 'file',
    size: 10,
    contentHash: 'a'.repeat(64),
    manifestId: 'b'.repeat(64),
    version: 1,
    versionId: randomUUID(),
    mtime: 1000,
    deleted: false,
    deletedAt: null,
    updatedSeq: seq,
    ...over,
  };
}

function version(e: FileEntry, seq: number, over: Partial<Version> = {}): Version {
  return {
    id: e.versionId,
    spaceId: e.spaceId,
    fileId: e.id,
    seq,
    version: e.version,
    path: e.path,
    prevPath: null,
    kind: e.kind,
    size: e.size,
    contentHash: e.contentHash,
    manifestId: e.manifestId,
    mtime: e.mtime,
    deviceId: null,
    baseVersionId: null,
    deleted: e.deleted,
    opId: null,
    createdAt: Date.now(),
    ...over,
  };
}

export function testMetaStore(
  name: string,
  make: () => Promise<{ meta: MetaStore; cleanup: () => Promise<void> }>,
  skip: string | false = false,
): void {
  const withMeta = (title: string, fn: (m: MetaStore) => Promise<void>): void =>
    void test(`${name}: ${title}`, { skip }, async () => {
      const { meta, cleanup } = await make();
      try {
        await fn(meta);
      } finally {
        await cleanup();
      }
    });

  async function userWithSpace(m: MetaStore, username = 'alice') {
    const user = await m.users.create({ id: randomUUID(), username, passwordHash: 'x', role: 'user' });
    const space = await m.transaction((tx) =>
      tx.spaces.create({ id: randomUUID(), name: 'default', ownerId: user.id, isDefault: true }),
    );
    return { user, space };
  }

  withMeta('users: create, find, unique usernames', async (m) => {
    const u = await m.users.create({
      id: randomUUID(),
      username: 'bob',
      passwordHash: 'h',
      role: 'admin',
      quotaBytes: 1000,
    });
    assert.equal((await m.users.byUsername('bob'))?.id, u.id);
    assert.equal((await m.users.byId(u.id))?.quotaBytes, 1000);
    await assert.rejects(
      m.users.create({ id: randomUUID(), username: 'bob', passwordHash: 'h', role: 'user' }),
      { code: 'ALREADY_EXISTS' },
    );
    assert.equal(await m.users.count(), 1);
  });

  withMeta('refresh tokens: markUsed succeeds once; family revoke', async (m) => {
    const { user } = await userWithSpace(m);
    const d = await m.devices.create({ id: randomUUID(), userId: user.id, name: 'phone', kind: 'mobile' });
    await m.tokens.insert({ tokenHash: 't1', deviceId: d.id, familyId: 'f', expiresAt: Date.now() + 1000 });
    assert.equal(await m.tokens.markUsed('t1', 1), true);
    assert.equal(await m.tokens.markUsed('t1', 2), false);
    await m.tokens.insert({ tokenHash: 't2', deviceId: d.id, familyId: 'f', expiresAt: Date.now() + 1000 });
    await m.tokens.revokeFamily('f', 3);
    assert.equal((await m.tokens.byHash('t2'))?.revokedAt, 3);
    await m.devices.revoke(d.id, 4);
    assert.equal((await m.devices.byId(d.id))?.revokedAt, 4);
  });

  withMeta('spaces: owner is a member; roles; seq increments', async (m) => {
    const { user, space } = await userWithSpace(m);
    const other = await m.users.create({
      id: randomUUID(),
      username: 'carol',
      passwordHash: 'x',
      role: 'user',
    });
    assert.equal(await m.spaces.roleOf(space.id, user.id), 'owner');
    assert.equal(await m.spaces.roleOf(space.id, other.id), undefined);
    await m.spaces.setMember(space.id, other.id, 'viewer');
    await m.spaces.setMember(space.id, other.id, 'editor');
    assert.equal(await m.spaces.roleOf(space.id, other.id), 'editor');
    assert.equal((await m.spaces.listForUser(other.id))[0].role, 'editor');
    assert.equal((await m.spaces.defaultFor(user.id))?.id, space.id);
    const seqs = await m.transaction(async (tx) => [
      await tx.spaces.nextSeq(space.id),
      await tx.spaces.nextSeq(space.id),
    ]);
    assert.deepEqual(seqs, [1, 2]);
    await assert.rejects(
      m.transaction((tx) => tx.spaces.create({ id: randomUUID(), name: 'default', ownerId: user.id })),
      { code: 'ALREADY_EXISTS' },
    );
  });

  withMeta('files: live path is unique, listing by folder and recursively, paging', async (m) => {
    const { space } = await userWithSpace(m);
    const s = space.id;
    for (const [i, p] of [
      '/a',
      '/a/x.txt',
      '/a/y.txt',
      '/a/sub',
      '/a/sub/z.txt',
      '/b.txt',
      '/a0.txt',
    ].entries()) {
      await m.files.upsert(entry(s, p, i + 1, { kind: p.endsWith('.txt') ? 'file' : 'dir' }));
    }
    assert.deepEqual(
      (await m.files.list(s, '/', { limit: 100 })).map((e) => e.path),
      ['/a', '/a0.txt', '/b.txt'],
    );
    assert.deepEqual(
      (await m.files.list(s, '/a', { limit: 100, recursive: true })).map((e) => e.path),
      ['/a/sub', '/a/sub/z.txt', '/a/x.txt', '/a/y.txt'],
    );
    assert.deepEqual(
      (await m.files.list(s, '/a', { limit: 2, recursive: true, after: '/a/sub/z.txt' })).map((e) => e.path),
      ['/a/x.txt', '/a/y.txt'],
    );
    await assert.rejects(m.files.upsert(entry(s, '/b.txt', 9)), { code: 'ALREADY_EXISTS' });
    // A deleted entry frees its path.
    const b = (await m.files.byPath(s, '/b.txt'))!;
    await m.files.upsert({ ...b, deleted: true, deletedAt: 5 });
    await m.files.upsert(entry(s, '/b.txt', 10));
    assert.equal((await m.files.trash(s, { limit: 10 })).length, 1);
    assert.deepEqual(
      (await m.files.search(s, 'Z.TXT', 10)).map((e) => e.path),
      ['/a/sub/z.txt'],
    );
    assert.deepEqual(
      (await m.files.search(s, '%', 10)).map((e) => e.path),
      [],
    );
  });

  withMeta('versions: history, change feed order, op idempotency key', async (m) => {
    const { user, space } = await userWithSpace(m);
    const e1 = entry(space.id, '/f', 1);
    await m.files.upsert(e1);
    await m.files.addVersion(version(e1, 1, { opId: 'op-1' }));
    const e2 = { ...e1, version: 2, versionId: randomUUID(), size: 20 };
    await m.files.addVersion(version(e2, 2));
    assert.deepEqual(
      (await m.files.versions(e1.id)).map((v) => v.version),
      [2, 1],
    );
    assert.deepEqual(
      (await m.files.changes(space.id, 0, 10)).map((v) => v.seq),
      [1, 2],
    );
    assert.deepEqual(
      (await m.files.changes(space.id, 1, 10)).map((v) => v.seq),
      [2],
    );
    assert.equal((await m.files.versionByOp(space.id, 'op-1'))?.seq, 1);
    await assert.rejects(
      m.files.addVersion(version({ ...e1, versionId: randomUUID() }, 3, { opId: 'op-1' })),
    );
    assert.equal(await m.files.usageOf(user.id), 10);
  });

  withMeta('content: manifests round-trip; chunk records and missing', async (m) => {
    const h = (c: string) => c.repeat(64);
    const manifest = {
      id: h('1'),
      size: 30,
      chunkCount: 2,
      chunks: [
        { hash: h('a'), size: 10 },
        { hash: h('b'), size: 20 },
      ],
    };
    // More than one statement's worth, the first one twice (a second put is ignored).
    const many = Array.from({ length: 600 }, (_, i) => ({
      id: i.toString(16).padStart(64, '0'),
      size: i,
      chunkCount: 1,
      chunks: [{ hash: h('c'), size: i }],
    }));
    await m.content.putManifests([manifest, ...many]);
    await m.content.putManifests([{ ...manifest, size: 99 }]);
    await m.content.putManifests([]);
    assert.equal((await m.content.manifest(h('1')))?.size, 30);
    assert.equal((await m.content.manifest(many[599].id))?.size, 599);
    assert.deepEqual((await m.content.manifest(h('1')))?.chunks, [
      { hash: h('a'), size: 10 },
      { hash: h('b'), size: 20 },
    ]);
    await m.content.recordChunks([{ hash: h('a'), size: 10, storedSize: 5 }]);
    await m.content.recordChunks([{ hash: h('a'), size: 10, storedSize: 5 }]);
    assert.deepEqual(await m.content.missingChunks([h('a'), h('b'), h('b')]), [h('b')]);
    assert.deepEqual(await m.content.stats(), { chunks: 1, storedBytes: 5, logicalChunkBytes: 10 });
  });

  withMeta('transactions roll back on error and do not interleave', async (m) => {
    const { space } = await userWithSpace(m);
    await assert.rejects(
      m.transaction(async (tx) => {
        await tx.spaces.nextSeq(space.id);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal((await m.spaces.byId(space.id))?.headSeq, 0);
    // Concurrent transactions each see a consistent counter.
    const seqs = await Promise.all(
      Array.from({ length: 20 }, () => m.transaction((tx) => tx.spaces.nextSeq(space.id))),
    );
    assert.deepEqual(
      [...seqs].sort((a, b) => a - b),
      Array.from({ length: 20 }, (_, i) => i + 1),
    );
  });

  withMeta('sync: op results are saved once and read back in batches', async (m) => {
    const { space } = await userWithSpace(m);
    const other = await userWithSpace(m, 'bob');
    const ids = Array.from({ length: 450 }, () => randomUUID()); // more than one IN batch
    await m.transaction(async (tx) => {
      await tx.sync.saveOpResults(
        space.id,
        ids.map((id, i) => ({ opId: id, result: { i, status: 'ok' } })),
        1,
      );
      await tx.sync.saveOpResults(space.id, [{ opId: ids[0], result: { i: -1 } }], 0); // a second save is ignored
    });
    const found = await m.sync.opResults(space.id, [...ids, randomUUID(), ids[3]]);
    assert.equal(found.size, ids.length);
    assert.deepEqual(found.get(ids[0]), { i: 0, status: 'ok' });
    assert.deepEqual(found.get(ids[449]), { i: 449, status: 'ok' });
    assert.equal((await m.sync.opResults(other.space.id, ids)).size, 0, 'op ids are per space');
    assert.equal((await m.sync.opResults(space.id, [])).size, 0);
  });
}
