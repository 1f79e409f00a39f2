// startTestServer(): the real Ferry server on 127.0.0.1, port 0, in a fresh temp data dir, with a
// logged-in admin — for integration and end-to-end tests. `close()` stops it and removes the dir.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type ServerConfig } from '../config.ts';
import { createFerryServer, type FerryServer } from '../app.ts';

export const TEST_ADMIN = { username: 'admin', password: 'admin-password-1' } as const;

export interface TestServer {
  url: string;
  server: FerryServer;
  dataDir: string;
  /** Access token of the admin (device "test"). */
  adminToken: string;
  /** Creates a user and logs in; returns its access token and ids. */
  user(username: string, password?: string, device?: { name: string; kind?: string }): Promise<TestUser>;
  /** fetch against the server with an optional bearer token. */
  request(path: string, init?: RequestInit & { token?: string; json?: unknown }): Promise<Response>;
  close(): Promise<void>;
}

export interface TestUser {
  token: string;
  refreshToken: string;
  userId: string;
  deviceId: string;
}

export async function startTestServer(
  overrides: Partial<ServerConfig> & { env?: NodeJS.ProcessEnv } = {},
): Promise<TestServer> {
  const dataDir = overrides.dataDir ?? (await mkdtemp(join(tmpdir(), 'ferry-test-')));
  const { env = {}, ...rest } = overrides;
  const config = loadConfig(
    {
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      adminUser: TEST_ADMIN.username,
      adminPassword: TEST_ADMIN.password,
      ...rest,
      dataDir,
    },
    env,
  );
  const server = await createFerryServer(config);
  await server.services.auth.bootstrapAdmin(config.adminUser, config.adminPassword);
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });

  const request = async (path: string, init: RequestInit & { token?: string; json?: unknown } = {}) => {
    const headers = new Headers(init.headers);
    if (init.token) headers.set('authorization', `Bearer ${init.token}`);
    let body = init.body;
    if (init.json !== undefined) {
      headers.set('content-type', 'application/json');
      body = JSON.stringify(init.json);
    }
    return fetch(url + path, { ...init, headers, body });
  };

  const login = async (
    username: string,
    password: string,
    device: { name: string; kind?: string } = { name: 'test', kind: 'desktop' },
  ): Promise<TestUser> => {
    const res = await request('/api/v1/auth/login', { method: 'POST', json: { username, password, device } });
    if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
    const s = (await res.json()) as {
      accessToken: string;
      refreshToken: string;
      deviceId: string;
      user: { id: string };
    };
    return { token: s.accessToken, refreshToken: s.refreshToken, userId: s.user.id, deviceId: s.deviceId };
  };

  const admin = await login(TEST_ADMIN.username, TEST_ADMIN.password);

  return {
    url,
    server,
    dataDir,
    adminToken: admin.token,
    request,
    async user(username, password = `${username}-password`, device) {
      const res = await request('/api/v1/auth/register', {
        method: 'POST',
        token: admin.token,
        json: { username, password },
      });
      if (res.status !== 201 && res.status !== 409)
        throw new Error(`register failed: ${res.status} ${await res.text()}`);
      return login(username, password, device ?? { name: `${username}-device`, kind: 'desktop' });
    },
    async close() {
      await server.close();
      if (!overrides.dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
