// A device's own commits go into its remote tree from the commits' answers (OwnCommits), against
// the real server: after passes that create, nest, rename, modify and delete, the remote tree is
// exactly what a fresh pull of the whole feed builds, and the passes never pulled their own changes
// back. When another writer came in between, nothing is applied and the pull brings everything.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ChangesAnswer, FeedChange, SyncApi } from '../api/sync-api.ts';
import { newSyncRoot, startLiveServer, type LiveServer } from '../testing/live-server.ts';
import { OwnCommits, pullRemote } from './remote-mirror.ts';
import { StateDb } from './state-db.ts';
import { SyncEngine } from './sync-engine.ts';

let live: LiveServer;
before(async () => {
  live = await startLiveServer('ferry-own-');
});
after(() => live.close());

/** The remote tree as comparable rows, sorted by path. */
const rows = (db: StateDb) =>
  [...db.remote().values()].sort((a, b) => (a.path < b.path ? -1 : 1)).map((e) => ({ ...e }));

/** The feed as a fresh device pulls it, from seq 0. */
async function pulledFresh(api: SyncApi, spaceId: string) {
  const db = new StateDb(':memory:');
  await pullRemote(api, db, spaceId);
  return { rows: rows(db), cursor: db.getMeta('cursor') };
}

void test('own commits land in the remote tree exactly as a pull of the feed, without pulling them back', async () => {
  const { client } = live;
  const { spaceId, dir } = await newSyncRoot(live, 'own-commits');
  // Counts the changes the passes pull.
  let pulled = 0;
  const api = client.sync;
  const changes = api.changes.bind(api);
  api.changes = async (...args: Parameters<SyncApi['changes']>): Promise<ChangesAnswer> => {
    const page = await changes(...args);
    if (!page.resync) pulled += page.changes.length;
    return page;
  };
  const engine = new SyncEngine({ root: dir, client });
  try {
    await mkdir(join(dir, 'docs/deep/er'), { recursive: true });
    await mkdir(join(dir, 'empty'));
    for (let i = 0; i < 30; i++) await writeFile(join(dir, 'docs', `f${i}.txt`), `file ${i}`);
    await writeFile(join(dir, 'docs/deep/er/nested.bin'), Buffer.alloc(300_000, 7));
    let report = await engine.sync();
    assert.equal(report.status, 'ok', report.message);
    assert.equal(pulled, 0, 'the pass did not pull its own changes back');
    assert.deepEqual(rows(engine.db), (await pulledFresh(api, spaceId)).rows);

    // Renames (a file, a folder with content), a modification, deletes.
    await rename(join(dir, 'docs/f1.txt'), join(dir, 'docs/renamed.txt'));
    await rename(join(dir, 'docs/deep'), join(dir, 'moved'));
    await writeFile(join(dir, 'docs/f2.txt'), 'changed');
    await rm(join(dir, 'docs/f3.txt'));
    await rm(join(dir, 'empty'), { recursive: true });
    pulled = 0;
    report = await engine.sync();
    assert.equal(report.status, 'ok', report.message);
    assert.equal(pulled, 0, 'the second pass did not pull its own changes back either');
    const fresh = await pulledFresh(api, spaceId);
    assert.deepEqual(rows(engine.db), fresh.rows);
    assert.equal(engine.db.getMeta('cursor'), fresh.cursor);
  } finally {
    api.changes = changes;
    engine.close();
  }
});

void test('with another writer in between, nothing is applied and the pull brings it all', async () => {
  const { client } = live;
  const space = await client.spaces.create('own-commits-gap');
  const db = new StateDb(':memory:');
  await pullRemote(client.sync, db, space.id);
  const dirChange = (opId: string, path: string) => ({
    opId,
    path,
    kind: 'dir' as const,
    baseVersionId: null,
  });
  // Someone else writes first.
  await client.sync.commit(space.id, [dirChange('other-op-1', '/theirs')]);
  const mine = await client.sync.commit(space.id, [dirChange('mine-op-1', '/mine')], undefined, {
    echo: true,
  });
  assert.deepEqual(
    mine.changes?.map((c: FeedChange) => c.path),
    ['/mine'],
  );
  const own = new OwnCommits(db);
  assert.equal(
    db.tx(() => own.apply(mine.changes, mine.headSeq)),
    false,
  );
  assert.deepEqual(rows(db), [], 'nothing applied');
  await pullRemote(client.sync, db, space.id);
  assert.deepEqual(rows(db), (await pulledFresh(client.sync, space.id)).rows);
  // Right after the cursor: applied.
  const next = await client.sync.commit(space.id, [dirChange('mine-op-2', '/mine2')], undefined, {
    echo: true,
  });
  assert.equal(
    db.tx(() => own.apply(next.changes, next.headSeq)),
    true,
  );
  assert.deepEqual(rows(db), (await pulledFresh(client.sync, space.id)).rows);
  assert.equal(db.getMeta('cursor'), String(next.headSeq));
});

void test('a change another device commits while a pass runs is pulled and applied by that same pass', async () => {
  const { client } = live;
  const { dir } = await newSyncRoot(live, 'pass-pulls-late');
  const api = client.sync;
  const commit = api.commit.bind(api);
  let injected = false;
  // Right after the pass's own commit, another writer adds a folder: the pass's closing pull sees
  // it, so the pass goes another round instead of ending, and creates it here.
  api.commit = async (...args: Parameters<SyncApi['commit']>) => {
    const answer = await commit(...args);
    if (!injected) {
      injected = true;
      await commit(args[0], [{ opId: 'late-writer-1', path: '/late', kind: 'dir', baseVersionId: null }]);
    }
    return answer;
  };
  const engine = new SyncEngine({ root: dir, client });
  try {
    await writeFile(join(dir, 'mine.txt'), 'mine');
    const report = await engine.sync();
    assert.equal(report.status, 'ok', report.message);
    assert.ok(injected);
    assert.equal((await stat(join(dir, 'late'))).isDirectory(), true, 'the late folder is here');
    assert.equal(report.rounds, 2, 'one round for our change, one for theirs');
  } finally {
    api.commit = commit;
    engine.close();
  }
});
