// Operations endpoints: health, readiness, Prometheus metrics, OpenAPI, request ids.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_CODES } from '@ferry/core/errors';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startTestServer, type TestServer } from '../testing/test-server.ts';

let t: TestServer;
before(async () => {
  t = await startTestServer();
});
after(() => t.close());

test('/health and /ready answer', async () => {
  assert.deepEqual(await (await t.request('/health')).json(), { status: 'ok' });
  assert.deepEqual(await (await t.request('/ready')).json(), { status: 'ready' });
});

test('/metrics has requests by route and status, latency, storage, users, devices, process', async () => {
  await t.request('/api/v1/files/upload?path=/m.txt', {
    method: 'POST',
    token: t.adminToken,
    body: 'metrics',
  });
  await t.request('/api/v1/files/list', { token: t.adminToken });
  const text = await (await t.request('/metrics')).text();
  assert.match(
    text,
    /ferry_http_requests_total\{route="\/api\/v1\/files\/list",method="GET",status="200"\} 1/,
  );
  assert.match(
    text,
    /ferry_http_request_duration_seconds_bucket\{le="0.1",route="\/api\/v1\/files\/upload",method="POST"\}/,
  );
  assert.match(text, /ferry_stored_bytes\{kind="logical"\} 7/);
  assert.match(text, /ferry_stored_bytes\{kind="physical"\} \d+/);
  assert.match(text, /ferry_chunks 1/);
  assert.match(text, /ferry_users 1/);
  assert.match(text, /ferry_devices 1/);
  assert.match(text, /ferry_process_resident_memory_bytes \d+/);

  // The storage gauges (table scans) are reused within FERRY_METRICS_STORAGE_TTL (30 s by default),
  // while request counters stay live.
  await t.request('/api/v1/files/upload?path=/m2.txt', { method: 'POST', token: t.adminToken, body: 'more' });
  const again = await (await t.request('/metrics')).text();
  assert.match(again, /ferry_stored_bytes\{kind="logical"\} 7$/m);
  assert.match(again, /ferry_chunks 1$/m);
  assert.match(
    again,
    /ferry_http_requests_total\{route="\/api\/v1\/files\/upload",method="POST",status="200"\} 2/,
  );
});

test('/metrics storage gauges with FERRY_METRICS_STORAGE_TTL=0 are computed at every scrape', async () => {
  const fresh = await startTestServer({ metricsStorageTtl: 0 });
  try {
    const scrape = async () =>
      (await (await fresh.request('/metrics')).text()).match(/ferry_chunks (\d+)/)![1];
    assert.equal(await scrape(), '0');
    await fresh.request('/api/v1/files/upload?path=/a.txt', {
      method: 'POST',
      token: fresh.adminToken,
      body: 'a',
    });
    assert.equal(await scrape(), '1');
  } finally {
    await fresh.close();
  }
});

test('the OpenAPI document lists the seed routes with their schemas', async () => {
  const doc = await (await t.request('/api/v1/openapi.json')).json();
  assert.equal(doc.openapi.slice(0, 2), '3.');
  for (const [path, method] of [
    ['/api/v1/files/upload', 'post'],
    ['/api/v1/files/download', 'get'],
    ['/api/v1/files/list', 'get'],
    ['/api/v1/files/{id}', 'delete'],
    ['/api/v1/files/{id}/info', 'get'],
    ['/api/v1/auth/login', 'post'],
    ['/api/v1/auth/register', 'post'],
    ['/api/v1/auth/refresh', 'post'],
  ]) {
    assert.ok(doc.paths[path]?.[method], `${method.toUpperCase()} ${path} is documented`);
  }
  assert.ok(doc.paths['/api/v1/auth/login'].post.requestBody);
  const docs = await t.request('/api/docs/');
  assert.equal(docs.status, 200);
});

test('every response carries a request id; a given one is kept', async () => {
  const res = await t.request('/health', { headers: { 'x-request-id': 'abc-123' } });
  assert.equal(res.headers.get('x-request-id'), 'abc-123');
  assert.match((await t.request('/health')).headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
});

test('every error code is documented in docs/errors.md', async () => {
  const doc = await readFile(join(import.meta.dirname, '..', '..', '..', '..', 'docs', 'errors.md'), 'utf8');
  for (const code of Object.keys(ERROR_CODES))
    assert.match(doc, new RegExp('`' + code + '`'), `${code} is documented`);
});
