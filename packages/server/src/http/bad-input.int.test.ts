// SPEC.md "What bad input gets": every case answers a 4xx JSON error with a code, stores nothing,
// and reveals nothing of another tenant. Table-driven against the real server.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { startTestServer, type TestServer, type TestUser } from '../testing/test-server.ts';

let t: TestServer;
let alice: TestUser;
let bob: TestUser;
let bobFileId: string;
let bobSpaceId: string;

before(async () => {
  t = await startTestServer({
    metricsStorageTtl: 0, // state() compares fresh chunk counts before and after each case
    maxUploadBytes: 1024 * 1024,
    env: { FERRY_DEFAULT_QUOTA_BYTES: String(2 * 1024 * 1024) },
  });
  alice = await t.user('alice');
  bob = await t.user('bob');
  const up = await t.request('/api/v1/files/upload?path=/secret.txt', {
    method: 'POST',
    token: bob.token,
    body: 'bob only',
  });
  bobFileId = ((await up.json()) as { id: string }).id;
  bobSpaceId = (
    (await (await t.request('/api/v1/spaces', { token: bob.token })).json()) as { spaces: { id: string }[] }
  ).spaces[0].id;
});
after(() => t.close());

async function state(token: string) {
  const spaces = (await (await t.request('/api/v1/spaces', { token })).json()) as {
    spaces: { headSeq: number }[];
  };
  const list = (await (await t.request('/api/v1/files/list?recursive=true', { token })).json()) as {
    entries: unknown[];
  };
  const metrics = await (await t.request('/metrics')).text();
  return {
    seq: spaces.spaces[0].headSeq,
    entries: list.entries.length,
    chunks: /ferry_chunks (\d+)/.exec(metrics)![1],
  };
}

interface Case {
  name: string;
  status: number;
  code: string;
  req: () => Promise<Response>;
}

const up = (path: string, body: BodyInit = 'x', token?: string) =>
  t.request(`/api/v1/files/upload?path=${encodeURIComponent(path)}`, {
    method: 'POST',
    token: token ?? alice.token,
    body,
  });

const cases: Case[] = [
  { name: 'path traversal', status: 400, code: 'INVALID_PATH', req: () => up('/a/../../etc/passwd') },
  { name: 'relative path', status: 400, code: 'INVALID_PATH', req: () => up('etc/passwd') },
  { name: 'empty path', status: 400, code: 'INVALID_PATH', req: () => up('') },
  { name: 'root as a file', status: 400, code: 'INVALID_PATH', req: () => up('/') },
  { name: 'NUL in a name', status: 400, code: 'INVALID_NAME', req: () => up('/a\u0000b.txt') },
  { name: 'control character in a name', status: 400, code: 'INVALID_NAME', req: () => up('/a\u0007b.txt') },
  { name: 'over-long name', status: 400, code: 'INVALID_NAME', req: () => up('/' + 'n'.repeat(300)) },
  { name: 'reserved name', status: 400, code: 'INVALID_NAME', req: () => up('/docs/CON.txt') },
  { name: 'Windows drive path', status: 400, code: 'INVALID_PATH', req: () => up('C:\\Windows\\x') },
  {
    name: 'content not matching its declared hash',
    status: 400,
    code: 'HASH_MISMATCH',
    req: () =>
      t.request(`/api/v1/files/upload?path=/h.txt&sha256=${'0'.repeat(64)}`, {
        method: 'POST',
        token: alice.token,
        body: 'data',
      }),
  },
  {
    name: 'upload over the size limit',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    req: () => up('/big.bin', new Uint8Array(1024 * 1024 + 1)),
  },
  {
    name: 'upload over the size limit without Content-Length (streamed)',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    req: () => {
      const stream = new ReadableStream({
        start(c) {
          for (let i = 0; i < 20; i++) c.enqueue(new Uint8Array(64 * 1024));
          c.close();
        },
      });
      return t.request('/api/v1/files/upload?path=/stream.bin', {
        method: 'POST',
        token: alice.token,
        body: stream,
        duplex: 'half',
      } as RequestInit);
    },
  },
  {
    name: 'malformed JSON',
    status: 400,
    code: 'BAD_REQUEST',
    req: () =>
      t.request('/api/v1/files/mkdir', {
        method: 'POST',
        token: alice.token,
        headers: { 'content-type': 'application/json' },
        body: '{"path": "/x",',
      }),
  },
  {
    name: 'unknown field',
    status: 400,
    code: 'BAD_REQUEST',
    req: () =>
      t.request('/api/v1/files/mkdir', {
        method: 'POST',
        token: alice.token,
        json: { path: '/x', extra: 1 },
      }),
  },
  {
    name: 'unknown query parameter',
    status: 400,
    code: 'BAD_REQUEST',
    req: () => t.request('/api/v1/files/list?bogus=1', { token: alice.token }),
  },
  { name: 'missing token', status: 401, code: 'UNAUTHORIZED', req: () => t.request('/api/v1/files/list') },
  {
    name: 'forged token',
    status: 401,
    code: 'UNAUTHORIZED',
    req: () => t.request('/api/v1/files/list', { token: alice.token.slice(0, -4) + 'AAAA' }),
  },
  {
    name: 'token signed with another secret',
    status: 401,
    code: 'UNAUTHORIZED',
    req: async () => {
      const jwt = await new SignJWT({ did: alice.deviceId, role: 'admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(alice.userId)
        .setIssuer('ferry')
        .setExpirationTime('1h')
        .sign(new TextEncoder().encode('not-the-secret'));
      return t.request('/api/v1/files/list', { token: jwt });
    },
  },
  {
    name: 'unsigned token (alg none)',
    status: 401,
    code: 'UNAUTHORIZED',
    req: () => {
      const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return t.request('/api/v1/files/list', {
        token: `${b64({ alg: 'none' })}.${b64({ sub: alice.userId, did: alice.deviceId, iss: 'ferry' })}.`,
      });
    },
  },
  {
    name: "another user's space by id",
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request(`/api/v1/files/list?space=${bobSpaceId}`, { token: alice.token }),
  },
  {
    name: "another user's file by id",
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request(`/api/v1/files/${bobFileId}/info`, { token: alice.token }),
  },
  {
    name: "another user's file download",
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request(`/api/v1/files/download?id=${bobFileId}`, { token: alice.token }),
  },
  {
    name: "deleting another user's file",
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request(`/api/v1/files/${bobFileId}`, { method: 'DELETE', token: alice.token }),
  },
  {
    name: "another user's device",
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request(`/api/v1/devices/${bob.deviceId}`, { method: 'DELETE', token: alice.token }),
  },
  {
    name: 'a missing file (same answer as another user’s)',
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request('/api/v1/files/00000000-0000-0000-0000-000000000000/info', { token: alice.token }),
  },
  {
    name: 'unknown route',
    status: 404,
    code: 'NOT_FOUND',
    req: () => t.request('/api/v1/nope', { token: alice.token }),
  },
];

for (const c of cases) {
  test(`bad input: ${c.name} → ${c.status} ${c.code}, nothing stored`, async () => {
    const before = await state(alice.token);
    const res = await c.req();
    assert.equal(res.status, c.status);
    assert.match(res.headers.get('content-type') ?? '', /application\/json/);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, c.code);
    assert.ok(body.error.message.length > 0);
    assert.ok(
      !JSON.stringify(body).includes('bob only') && !JSON.stringify(body).includes('/secret.txt'),
      'nothing of another tenant',
    );
    assert.deepEqual(await state(alice.token), before);
  });
}

test('bad input: upload over quota → 413 QUOTA_EXCEEDED, nothing stored', async () => {
  // Quota 2 MiB, upload limit 1 MiB: fill 1.5 MiB, then 1 MiB more does not fit.
  await up('/fill-1.bin', new Uint8Array(768 * 1024).fill(1));
  await up('/fill-2.bin', new Uint8Array(768 * 1024).fill(2));
  const before = await state(alice.token);
  const res = await up('/over.bin', new Uint8Array(1000 * 1024).fill(3));
  assert.equal(res.status, 413);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'QUOTA_EXCEEDED');
  assert.equal((await state(alice.token)).seq, before.seq);
  // Replacing a file counts only the difference.
  assert.equal((await up('/fill-2.bin', new Uint8Array(800 * 1024).fill(4))).status, 200);
  // 480 KiB left: two concurrent 300 KiB uploads each fit alone, not together. Exactly one lands.
  const racing = await Promise.all([
    up('/race-a.bin', new Uint8Array(300 * 1024).fill(5)),
    up('/race-b.bin', new Uint8Array(300 * 1024).fill(6)),
  ]);
  assert.deepEqual(racing.map((r) => r.status).sort(), [200, 413]);
});

test('bad input: a revoked device token is refused', async () => {
  const carol = await t.user('carol');
  assert.equal((await t.request('/api/v1/files/list', { token: carol.token })).status, 200);
  assert.equal(
    (await t.request(`/api/v1/devices/${carol.deviceId}`, { method: 'DELETE', token: carol.token })).status,
    204,
  );
  const res = await t.request('/api/v1/files/list', { token: carol.token });
  assert.equal(res.status, 401);
  const refresh = await t.request('/api/v1/auth/refresh', {
    method: 'POST',
    json: { refreshToken: carol.refreshToken },
  });
  assert.equal(refresh.status, 401);
});
