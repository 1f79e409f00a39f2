// Auth over HTTP: login, refresh rotation with reuse detection, throttling, registration rules,
// the signing secret on disk.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, TEST_ADMIN, type TestServer } from '../testing/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer({ loginMaxFailures: 3 });
});
after(() => t.close());

const login = (username: string, password: string, device?: object) =>
  t.request('/api/v1/auth/login', { method: 'POST', json: { username, password, device } });

test('login registers the device and answers the documented shape', async () => {
  const res = await login(TEST_ADMIN.username, TEST_ADMIN.password, { name: 'garmin', kind: 'watch' });
  assert.equal(res.status, 200);
  const s = await res.json();
  assert.deepEqual(Object.keys(s).sort(), ['accessToken', 'deviceId', 'expiresIn', 'refreshToken', 'user']);
  const devices = await (await t.request('/api/v1/devices', { token: s.accessToken })).json();
  const d = devices.devices.find((x: any) => x.id === s.deviceId);
  assert.equal(d.kind, 'watch');
  assert.equal(d.current, true);
});

test('refresh rotates; replaying a used refresh token revokes the whole family', async () => {
  const s0 = await (await login(TEST_ADMIN.username, TEST_ADMIN.password)).json();
  const r1 = await t.request('/api/v1/auth/refresh', {
    method: 'POST',
    json: { refreshToken: s0.refreshToken },
  });
  assert.equal(r1.status, 200);
  const s1 = await r1.json();
  assert.notEqual(s1.refreshToken, s0.refreshToken);
  assert.equal(s1.deviceId, s0.deviceId);
  // Replay the old one: refused, and the new one dies with it.
  const replay = await t.request('/api/v1/auth/refresh', {
    method: 'POST',
    json: { refreshToken: s0.refreshToken },
  });
  assert.equal(replay.status, 401);
  assert.equal((await replay.json()).error.code, 'TOKEN_REUSED');
  const after = await t.request('/api/v1/auth/refresh', {
    method: 'POST',
    json: { refreshToken: s1.refreshToken },
  });
  assert.equal(after.status, 401);
});

test('logout revokes the refresh token', async () => {
  const s = await (await login(TEST_ADMIN.username, TEST_ADMIN.password)).json();
  assert.equal(
    (await t.request('/api/v1/auth/logout', { method: 'POST', json: { refreshToken: s.refreshToken } }))
      .status,
    204,
  );
  assert.equal(
    (await t.request('/api/v1/auth/refresh', { method: 'POST', json: { refreshToken: s.refreshToken } }))
      .status,
    401,
  );
});

test('failed logins are throttled per account with Retry-After; the right password is refused while throttled', async () => {
  await t.user('dave', 'dave-password');
  for (let i = 0; i < 3; i++) assert.equal((await login('dave', 'wrong-password')).status, 401);
  const limited = await login('dave', 'dave-password');
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers.get('retry-after')) > 0);
  assert.equal((await limited.json()).error.code, 'RATE_LIMITED');
  // Other accounts are unaffected.
  assert.equal((await login(TEST_ADMIN.username, TEST_ADMIN.password)).status, 200);
});

test('unknown users and wrong passwords get the same answer', async () => {
  const a = await (await login('nobody-here', 'whatever-pw')).json();
  const b = await (await login(TEST_ADMIN.username, 'wrong-password')).json();
  assert.deepEqual(a, b);
});

test('registration is admin only by default; users get a default space', async () => {
  const eve = await t.user('eve');
  const byUser = await t.request('/api/v1/auth/register', {
    method: 'POST',
    token: eve.token,
    json: { username: 'mallory', password: 'password123' },
  });
  assert.equal(byUser.status, 403);
  const anonymous = await t.request('/api/v1/auth/register', {
    method: 'POST',
    json: { username: 'mallory', password: 'password123' },
  });
  assert.equal(anonymous.status, 401);
  const dup = await t.request('/api/v1/auth/register', {
    method: 'POST',
    token: t.adminToken,
    json: { username: 'eve', password: 'password123' },
  });
  assert.equal(dup.status, 409);
  const short = await t.request('/api/v1/auth/register', {
    method: 'POST',
    token: t.adminToken,
    json: { username: 'frank', password: 'short' },
  });
  assert.equal(short.status, 400);
  const spaces = await (await t.request('/api/v1/spaces', { token: eve.token })).json();
  assert.deepEqual(
    spaces.spaces.map((s: any) => [s.name, s.role, s.isDefault]),
    [['default', 'owner', true]],
  );
});

test('open registration lets anyone register, but not as admin', async () => {
  const open = await startTestServer({ openRegistration: true });
  try {
    const ok = await open.request('/api/v1/auth/register', {
      method: 'POST',
      json: { username: 'gina', password: 'password123' },
    });
    assert.equal(ok.status, 201);
    const admin = await open.request('/api/v1/auth/register', {
      method: 'POST',
      json: { username: 'hank', password: 'password123', role: 'admin' },
    });
    assert.equal(admin.status, 403);
  } finally {
    await open.close();
  }
});

test('the JWT signing secret is kept in the data dir with mode 0600', async () => {
  const st = await stat(join(t.dataDir, 'jwt-secret'));
  assert.equal(st.mode & 0o777, 0o600);
});
