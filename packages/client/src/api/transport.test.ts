// Transport behaviour that the real server cannot be made to show on demand (5xx bursts, expired
// tokens racing each other), checked against a tiny local HTTP fault injector on port 0.

import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { FerryApiError } from './errors.ts';
import { FerryClient } from './client.ts';
import { MemoryTokenStore, backoffDelay } from './transport.ts';
import type { Session } from './types.ts';

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

let handler: Handler = (_q, res) => res.end();
let baseUrl = '';
const server = createServer((req, res) => {
  const parts: Buffer[] = [];
  req.on('data', (c: Buffer) => parts.push(c));
  req.on('end', () => handler(req, res, Buffer.concat(parts)));
});

before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(body === undefined ? '' : JSON.stringify(body));
}

function session(over: Partial<Session> = {}): Session {
  return {
    accessToken: 'a1',
    refreshToken: 'r1',
    accessExpiresAt: Date.now() + 3600_000,
    deviceId: 'd1',
    user: { id: 'u1', username: 'ann', role: 'user' },
    ...over,
  };
}

const fast = { retries: 3, baseDelayMs: 1, maxDelayMs: 5 };

describe('Transport', () => {
  test('parses the server error body into FerryApiError', async () => {
    handler = (_q, res) =>
      send(res, 404, { error: { code: 'NOT_FOUND', message: 'file not found', details: { id: 'x' } } });
    const c = new FerryClient({ baseUrl, tokens: new MemoryTokenStore(session()), retry: fast });
    const err = await c.files.info('x').catch((e: unknown) => e);
    assert.ok(err instanceof FerryApiError);
    assert.equal(err.status, 404);
    assert.equal(err.code, 'NOT_FOUND');
    assert.equal(err.message, 'file not found');
    assert.deepEqual(err.details, { id: 'x' });
  });

  test('retries idempotent requests on 5xx, then succeeds', async () => {
    let calls = 0;
    handler = (_q, res) =>
      ++calls < 3
        ? send(res, 503, { error: { code: 'UNAVAILABLE', message: 'busy' } })
        : send(res, 200, { spaces: [] });
    const c = new FerryClient({ baseUrl, tokens: new MemoryTokenStore(session()), retry: fast });
    assert.deepEqual(await c.spaces.list(), []);
    assert.equal(calls, 3);
  });

  test('gives up after the retry budget and reports the last error', async () => {
    let calls = 0;
    handler = (_q, res) => {
      calls++;
      send(res, 500, { error: { code: 'INTERNAL', message: 'boom' } });
    };
    const c = new FerryClient({ baseUrl, tokens: new MemoryTokenStore(session()), retry: fast });
    await assert.rejects(c.spaces.list(), (e: FerryApiError) => e.code === 'INTERNAL' && e.status === 500);
    assert.equal(calls, 4);
  });

  test('does not retry non-idempotent POSTs on 5xx', async () => {
    let calls = 0;
    handler = (_q, res) => {
      calls++;
      send(res, 500, { error: { code: 'INTERNAL', message: 'boom' } });
    };
    const c = new FerryClient({ baseUrl, tokens: new MemoryTokenStore(session()), retry: fast });
    await assert.rejects(c.spaces.create('x'));
    assert.equal(calls, 1);
  });

  test('network errors become NETWORK_ERROR with status 0', async () => {
    const c = new FerryClient({
      baseUrl: 'http://127.0.0.1:1',
      tokens: new MemoryTokenStore(session()),
      retry: { ...fast, retries: 1 },
    });
    await assert.rejects(
      c.spaces.list(),
      (e: FerryApiError) => e.code === 'NETWORK_ERROR' && e.status === 0 && e.transient,
    );
  });

  test('refreshes once on 401 for many concurrent calls (single flight) and retries them', async () => {
    let refreshes = 0;
    handler = (req, res, body) => {
      if (req.url === '/api/v1/auth/refresh') {
        refreshes++;
        assert.equal(JSON.parse(body.toString()).refreshToken, 'r1');
        // Slow enough that all callers pile up behind the one refresh.
        setTimeout(
          () =>
            send(res, 200, {
              accessToken: 'a2',
              refreshToken: 'r2',
              expiresIn: 900,
              deviceId: 'd1',
              user: { id: 'u1', username: 'ann', role: 'user' },
            }),
          30,
        );
        return;
      }
      if (req.headers.authorization !== 'Bearer a2')
        return send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'expired' } });
      send(res, 200, { spaces: [{ id: 's1' }] });
    };
    const store = new MemoryTokenStore(session());
    const changes: (Session | null)[] = [];
    const c = new FerryClient({
      baseUrl,
      tokens: store,
      retry: fast,
      onSessionChange: (s) => changes.push(s),
    });
    const results = await Promise.all(Array.from({ length: 8 }, () => c.spaces.list()));
    assert.equal(results.length, 8);
    assert.equal(refreshes, 1);
    assert.equal(store.load()?.refreshToken, 'r2');
    assert.equal(changes.length, 1);
  });

  test('refreshes before the call when the access token is about to expire', async () => {
    const seen: string[] = [];
    handler = (req, res) => {
      seen.push(`${req.url} ${req.headers.authorization ?? ''}`);
      if (req.url === '/api/v1/auth/refresh')
        return send(res, 200, {
          accessToken: 'a2',
          refreshToken: 'r2',
          expiresIn: 900,
          deviceId: 'd1',
          user: { id: 'u1', username: 'ann', role: 'user' },
        });
      send(res, 200, { devices: [] });
    };
    const c = new FerryClient({
      baseUrl,
      tokens: new MemoryTokenStore(session({ accessExpiresAt: Date.now() + 1000 })),
      retry: fast,
    });
    await c.devices.list();
    assert.deepEqual(seen, ['/api/v1/auth/refresh ', '/api/v1/devices Bearer a2']);
  });

  test('a dead refresh token ends the session', async () => {
    handler = (req, res) => {
      if (req.url === '/api/v1/auth/refresh')
        return send(res, 401, { error: { code: 'TOKEN_REUSED', message: 'reused' } });
      send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'expired' } });
    };
    const store = new MemoryTokenStore(session());
    const c = new FerryClient({ baseUrl, tokens: store, retry: fast });
    await assert.rejects(c.devices.list(), (e: FerryApiError) => e.code === 'TOKEN_REUSED');
    assert.equal(store.load(), null);
    await assert.rejects(c.devices.list(), (e: FerryApiError) => e.code === 'NOT_SIGNED_IN');
  });

  test('upload streams the body with progress and sends the query', async () => {
    let got: { url?: string; len: number; type?: string } = { len: 0 };
    handler = (req, res, body) => {
      got = { url: req.url, len: body.length, type: req.headers['content-type'] };
      send(res, 200, { id: 'f1', path: '/a/b.bin', size: body.length });
    };
    const c = new FerryClient({ baseUrl, tokens: new MemoryTokenStore(session()), retry: fast });
    const data = new Uint8Array(300_000).fill(7);
    const progress: number[] = [];
    const info = await c.files.upload('/a/b.bin', data, {
      mtime: 123,
      onProgress: (p) => progress.push(p.loaded),
    });
    assert.equal(info.size, 300_000);
    assert.equal(got.len, 300_000);
    assert.equal(got.type, 'application/octet-stream');
    assert.equal(got.url, '/api/v1/files/upload?path=%2Fa%2Fb.bin&mtime=123');
    assert.ok(progress.length >= 4);
    assert.equal(progress.at(-1), 300_000);
  });

  test('backoff is full jitter bounded by the cap', () => {
    const o = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    assert.equal(
      backoffDelay(0, o, () => 0.999),
      99,
    );
    assert.equal(
      backoffDelay(3, o, () => 0.999),
      799,
    );
    assert.equal(
      backoffDelay(10, o, () => 0.999),
      999,
    );
    assert.equal(
      backoffDelay(10, o, () => 0),
      0,
    );
  });
});
