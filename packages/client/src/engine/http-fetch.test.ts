import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import { httpFetch } from './http-fetch.ts';
import { MemoryTokenStore, Transport } from '../api/transport.ts';
import type { Session } from '../api/types.ts';
import { encodeFrames, frameParts, SyncApi } from '../api/sync-api.ts';

async function withServer(handler: http.RequestListener, fn: (base: string) => Promise<void>): Promise<void> {
  const server = http.createServer(handler);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

test('httpFetch sends byte, string and stream bodies intact and answers with a Response', async () => {
  await withServer(
    async (req, res) => {
      const hash = createHash('sha256');
      for await (const piece of req) hash.update(piece as Buffer);
      res.setHeader('x-method', req.method ?? '');
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ sha: hash.digest('hex'), type: req.headers['content-type'] }));
    },
    async (base) => {
      const bytes = randomBytes(3 * 1024 * 1024 + 17);
      const r1 = await httpFetch(`${base}/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      assert.equal(r1.status, 200);
      assert.equal(r1.headers.get('x-method'), 'POST');
      assert.deepEqual(await r1.json(), {
        sha: createHash('sha256').update(bytes).digest('hex'),
        type: 'application/octet-stream',
      });
      const r2 = await httpFetch(`${base}/x`, { method: 'PUT', body: 'hello' });
      assert.equal(
        ((await r2.json()) as { sha: string }).sha,
        createHash('sha256').update('hello').digest('hex'),
      );
      const stream = new ReadableStream<Uint8Array>({
        start(c) {
          c.enqueue(bytes.subarray(0, 1000));
          c.enqueue(bytes.subarray(1000));
          c.close();
        },
      });
      const r3 = await httpFetch(`${base}/x`, {
        method: 'POST',
        body: stream,
        duplex: 'half',
      } as RequestInit);
      assert.equal(
        ((await r3.json()) as { sha: string }).sha,
        createHash('sha256').update(bytes).digest('hex'),
      );
    },
  );
});

test('httpFetch: 204 has a null body; an abort rejects with the AbortError; a dead port is a TypeError', async () => {
  await withServer(
    (req, res) => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      // /slow never answers
    },
    async (base) => {
      const r = await httpFetch(`${base}/empty`, { method: 'DELETE' });
      assert.equal(r.status, 204);
      assert.equal(r.body, null);
      const ac = new AbortController();
      const p = httpFetch(`${base}/slow`, { signal: ac.signal });
      setTimeout(() => ac.abort(), 20);
      await assert.rejects(p, { name: 'AbortError' });
    },
  );
  await assert.rejects(httpFetch('http://127.0.0.1:1/'), TypeError);
});

test('the Transport works over httpFetch: JSON answers and API errors', async () => {
  await withServer(
    (req, res) => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/api/v1/ok') return void res.end('{"ok":true}');
      res.statusCode = 404;
      res.end('{"error":{"code":"NOT_FOUND","message":"no such thing"}}');
    },
    async (base) => {
      const t = new Transport({ baseUrl: base, fetch: httpFetch });
      assert.deepEqual(await t.json('GET', '/api/v1/ok', { auth: false }), { ok: true });
      await assert.rejects(t.json('GET', '/api/v1/missing', { auth: false }), { code: 'NOT_FOUND' });
    },
  );
});

test('httpFetch response bodies: a big chunked body arrives whole; a body cut off midway is an error', async () => {
  const big = randomBytes(5 * 1024 * 1024 + 3);
  await withServer(
    (req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' }); // chunked: no length
      if (req.url === '/big') {
        for (let at = 0; at < big.length; at += 100_000) res.write(big.subarray(at, at + 100_000));
        return void res.end();
      }
      res.write(big.subarray(0, 200_000));
      setTimeout(() => res.destroy(), 20);
    },
    async (base) => {
      const r = await httpFetch(`${base}/big`);
      assert.deepEqual(Buffer.from(await r.arrayBuffer()), big);
      const cut = await httpFetch(`${base}/cut`);
      await assert.rejects(cut.arrayBuffer());
    },
  );
});

test('chunk frames go out as byte parts through httpFetch and joined through a standard fetch, the same bytes', async () => {
  const bodies: { sha: string; length: string | undefined }[] = [];
  await withServer(
    async (req, res) => {
      const hash = createHash('sha256');
      for await (const piece of req) hash.update(piece as Buffer);
      bodies.push({ sha: hash.digest('hex'), length: req.headers['content-length'] });
      res.setHeader('content-type', 'application/json');
      res.end('{}');
    },
    async (base) => {
      const frames = Array.from({ length: 300 }, (_, i) => {
        const payload = randomBytes(1 + ((i * 7919) % 40_000));
        return { hash: createHash('sha256').update(payload).digest('hex'), flags: 0, payload };
      });
      const want = encodeFrames(frames);
      for (const f of [httpFetch, fetch]) {
        const session = {
          accessToken: 't',
          refreshToken: 'r',
          accessExpiresAt: Date.now() + 3_600_000,
          deviceId: 'd',
          user: {} as Session['user'],
        };
        const api = new SyncApi(
          new Transport({ baseUrl: base, fetch: f, tokens: new MemoryTokenStore(session) }),
        );
        await api.uploadChunks(frameParts(frames));
      }
      const sha = createHash('sha256').update(want).digest('hex');
      assert.deepEqual(bodies, [
        { sha, length: String(want.length) },
        { sha, length: String(want.length) },
      ]);
    },
  );
});

test('a response reads as text, bytes, a Blob or JSON once, with its headers by any case', async () => {
  await withServer(
    (_req, res) => {
      res.setHeader('Content-Type', 'text/plain; charset=utf-8');
      res.setHeader('X-Ferry-Version-Id', 'v1');
      res.setHeader('set-cookie', ['a=1', 'b=2']);
      res.end('héllo');
    },
    async (base) => {
      const r = await httpFetch(`${base}/t`);
      assert.equal(r.ok, true);
      assert.equal(r.headers.get('x-ferry-version-id'), 'v1');
      assert.equal(r.headers.get('X-FERRY-VERSION-ID'), 'v1');
      assert.equal(r.headers.get('set-cookie'), 'a=1, b=2');
      assert.equal(r.headers.get('x-missing'), null);
      assert.equal(await r.text(), 'héllo');
      assert.equal(r.bodyUsed, true);
      await assert.rejects(r.text(), TypeError);
      const b = await (await httpFetch(`${base}/t`)).blob();
      assert.equal(b.type, 'text/plain; charset=utf-8');
      assert.equal(await b.text(), 'héllo');
      const bytes = new Uint8Array(await (await httpFetch(`${base}/t`)).arrayBuffer());
      assert.deepEqual(bytes, new TextEncoder().encode('héllo'));
      const missing = await httpFetch(`${base}/t`, { method: 'HEAD' });
      assert.equal(missing.body, null);
    },
  );
});

test('a process that talks through httpFetch and the Transport never loads undici', async () => {
  // Node's fetch, Response, Headers and WebSocket live in undici (~4 MB of the idle daemon). This
  // runs requests in a fresh process and checks.
  await withServer(
    (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    },
    async (base) => {
      const script = `
        const { httpFetch } = await import(${JSON.stringify(new URL('./http-fetch.ts', import.meta.url).href)});
        const { Transport } = await import(${JSON.stringify(new URL('../api/transport.ts', import.meta.url).href)});
        const t = new Transport({ baseUrl: ${JSON.stringify(base)}, fetch: httpFetch });
        const body = await t.json('GET', '/x', { auth: false });
        const r = await httpFetch(${JSON.stringify(base)} + '/y', { method: 'POST', headers: { a: 'b' }, body: 'x' });
        await r.text();
        console.log(JSON.stringify({ body, undici: process.moduleLoadList.some((m) => m.includes('undici')) }));
      `;
      // Asynchronously: this process serves the child's requests meanwhile.
      const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
      assert.deepEqual(JSON.parse(stdout), { body: { ok: true }, undici: false });
    },
  );
});

test('the realtime channel opens with the WebSocket class the transport was given', () => {
  const urls: string[] = [];
  class FakeSocket {
    constructor(url: string) {
      urls.push(url);
    }
  }
  const t = new Transport({
    baseUrl: 'https://ferry.example:8443',
    fetch: httpFetch,
    webSocket: FakeSocket as unknown as typeof WebSocket,
  });
  assert.ok(t.openWebSocket('/api/v1/ws', { token: 'a b' }) instanceof FakeSocket);
  assert.deepEqual(urls, ['wss://ferry.example:8443/api/v1/ws?token=a+b']);
});
