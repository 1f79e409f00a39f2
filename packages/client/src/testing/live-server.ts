// For the client's integration tests: the real server on port 0, a client logged in as its admin,
// and a temp folder to work in, all removed by close().

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, TEST_ADMIN, type TestServer } from '@ferry/server/testing/test-server';
import { FerryClient } from '../api/client.ts';
import { SyncEngine } from '../engine/sync-engine.ts';

export interface LiveServer {
  server: TestServer;
  client: FerryClient;
  /** An empty temp folder. */
  root: string;
  close(): Promise<void>;
}

export async function startLiveServer(prefix: string): Promise<LiveServer> {
  const server = await startTestServer();
  const client = new FerryClient({ baseUrl: server.url });
  await client.auth.login({ username: TEST_ADMIN.username, password: TEST_ADMIN.password });
  const root = await mkdtemp(join(tmpdir(), prefix));
  return {
    server,
    client,
    root,
    async close() {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** A new space and an initialised sync root for it (ROOT/name), as `ferry init` makes them. */
export async function newSyncRoot(live: LiveServer, name: string): Promise<{ spaceId: string; dir: string }> {
  const space = await live.client.spaces.create(name);
  const dir = join(live.root, name);
  await mkdir(dir);
  await SyncEngine.init(dir, space.id, live.server.url);
  return { spaceId: space.id, dir };
}
