// pullRemote over several pages: renames, folder moves and deletes that refer to entries of earlier
// pages land exactly as when the same changes come in one page. The change feed is a fake here
// (one module under test); the sync tests run the real server.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import type { ChangesAnswer, FeedChange, SyncApi } from '../api/sync-api.ts';
import { pullRemote } from './remote-mirror.ts';
import { StateDb } from './state-db.ts';

const change = (seq: number, fileId: string, path: string, o: Partial<FeedChange> = {}): FeedChange => ({
  seq,
  fileId,
  versionId: `v${seq}`,
  version: 1,
  path,
  prevPath: null,
  kind: 'file',
  size: seq,
  contentHash: `h${seq}`,
  manifestId: `m${seq}`,
  mtime: 1000 + seq,
  deviceId: 'dev',
  deleted: false,
  ...o,
});

const FEED: FeedChange[] = [
  change(1, 'f1', '/a.txt'),
  change(2, 'd1', '/dir', { kind: 'dir', size: 0, contentHash: null, manifestId: null }),
  change(3, 'f2', '/dir/x.txt'),
  change(4, 'f3', '/dir/y.txt'),
  change(5, 'f1', '/b.txt', { prevPath: '/a.txt' }), // a rename of page 1's file
  change(6, 'd1', '/moved', { kind: 'dir', size: 0, contentHash: null, manifestId: null, prevPath: '/dir' }),
  change(7, 'f2', '/moved/x.txt', { deleted: true }),
  change(8, 'f4', '/a.txt'), // a new file where the renamed one was
];

/** A change feed serving FEED in pages of `pageSize`. */
function feed(pageSize: number): { api: SyncApi; calls: () => number } {
  let calls = 0;
  const changes = (_space: string, since: number): Promise<ChangesAnswer> => {
    calls++;
    const rest = FEED.filter((c) => c.seq > since);
    const page = rest.slice(0, pageSize);
    return Promise.resolve({ changes: page, headSeq: FEED.length, hasMore: rest.length > page.length });
  };
  return { api: { changes } as unknown as SyncApi, calls: () => calls };
}

void it('applies a feed in many pages exactly as in one', async () => {
  const paged = new StateDb(':memory:');
  const whole = new StateDb(':memory:');
  const small = feed(2);
  assert.deepEqual(await pullRemote(small.api, paged, 's'), { changes: 8, headSeq: 8 });
  assert.equal(small.calls(), 4);
  await pullRemote(feed(100).api, whole, 's');
  const tree = (db: StateDb) => [...db.remote().values()].map((e) => [e.path, e.fileId]).sort();
  assert.deepEqual(tree(paged), [
    ['/a.txt', 'f4'],
    ['/b.txt', 'f1'],
    ['/moved', 'd1'],
    ['/moved/y.txt', 'f3'],
  ]);
  assert.deepEqual(tree(paged), tree(whole));
  assert.deepEqual(paged.remote().get('/moved/y.txt'), whole.remote().get('/moved/y.txt'));
  assert.equal(paged.getMeta('cursor'), '8');
  // Nothing new: one call, nothing written.
  const again = feed(2);
  assert.deepEqual(await pullRemote(again.api, paged, 's'), { changes: 0, headSeq: 8 });
  assert.equal(again.calls(), 1);
});
