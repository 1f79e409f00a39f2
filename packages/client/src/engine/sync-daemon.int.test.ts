// SyncDaemon against the real server: a local change makes one pass (the announcement of its own
// commit makes none, the remote tree has it already), and another writer's commit makes a pass
// that brings it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newSyncRoot, startLiveServer, type LiveServer } from '../testing/live-server.ts';
import { SyncDaemon } from './sync-daemon.ts';
import { SyncEngine, type PassReport } from './sync-engine.ts';

let live: LiveServer;
before(async () => {
  live = await startLiveServer('ferry-daemon-');
});
after(() => live.close());

/** Resolves once no pass runs and none has finished for `quietMs`. */
async function idle(daemon: SyncDaemon, passes: () => number, quietMs = 700): Promise<void> {
  for (let seen = -1; seen !== passes() || daemon.busy;) {
    seen = passes();
    await new Promise((r) => setTimeout(r, quietMs));
  }
}

void test('one pass per local change; a commit of another writer brings a pass', async () => {
  const { client } = live;
  const { spaceId, dir } = await newSyncRoot(live, 'daemon-passes');
  const engine = new SyncEngine({ root: dir, client });
  const reports: PassReport[] = [];
  const daemon = new SyncDaemon(engine, { onPass: (r) => reports.push(r), rescanMs: 3_600_000 });
  daemon.start();
  try {
    await idle(daemon, () => reports.length); // the start and the realtime connection's catch-up passes
    const before = reports.length;
    await writeFile(join(dir, 'note.txt'), 'hello');
    await idle(daemon, () => reports.length);
    assert.equal(reports.length - before, 1, 'one pass for the change, none for its announcement');
    assert.equal(reports.at(-1)?.uploaded, 1);
    const listed = await client.sync.changes(spaceId, 0);
    assert.ok(!listed.resync && listed.changes.some((c) => c.path === '/note.txt'));

    // Another writer: the announcement is news, so a pass brings the folder.
    const passes = reports.length;
    await client.sync.commit(spaceId, [
      { opId: 'other-writer-1', path: '/theirs', kind: 'dir', baseVersionId: null },
    ]);
    await idle(daemon, () => reports.length);
    assert.ok(reports.length > passes, 'a pass after the other writer');
    assert.ok((await readFile(join(dir, 'note.txt'), 'utf8')) === 'hello');
    await mkdir(join(dir, 'theirs')).then(
      () => assert.fail('the folder should be there already'),
      (e: NodeJS.ErrnoException) => assert.equal(e.code, 'EEXIST'),
    );
  } finally {
    await daemon.stop();
    engine.close();
  }
});
