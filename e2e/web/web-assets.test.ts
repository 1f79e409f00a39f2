// How the server sends the built web app: hashed assets precompressed (brotli or gzip, as the
// browser accepts) and cached for a year; the names that stay the same across versions revalidate.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ensureWebBuild } from './browser-harness.ts';

let t: import('../../packages/server/src/testing/test-server.ts').TestServer;
before(async () => {
  ensureWebBuild();
  const mod = await import('../../packages/server/src/testing/test-server.ts');
  t = await mod.startTestServer();
});
after(() => t?.close());

/** A raw GET (fetch would decompress and hide the encoding). */
function get(path: string, headers: Record<string, string> = {}) {
  return new Promise<{
    status: number;
    headers: Record<string, string | string[] | undefined>;
    bytes: number;
  }>((resolve, reject) => {
    request(t.url + path, { headers }, (res) => {
      let bytes = 0;
      res.on('data', (b: Buffer) => (bytes += b.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
    })
      .on('error', reject)
      .end();
  });
}

test('the entry script is sent brotli- or gzip-compressed and cached as immutable', async () => {
  const html = await (await fetch(t.url + '/files')).text();
  const js = /<script type="module"[^>]*src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  assert.ok(js, 'index.html names its entry script');
  const plain = await get(js, { 'accept-encoding': 'identity' });
  assert.equal(plain.headers['content-encoding'], undefined);
  for (const [accept, encoding] of [
    ['gzip, deflate, br', 'br'],
    ['gzip', 'gzip'],
  ]) {
    const r = await get(js, { 'accept-encoding': accept });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-encoding'], encoding);
    assert.equal(r.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.ok(r.bytes < plain.bytes / 2, `${encoding}: ${r.bytes} of ${plain.bytes} bytes`);
  }
});

test('index.html, the service worker and app routes revalidate on every load', async () => {
  for (const path of ['/', '/files/some/folder', '/sw.js']) {
    const r = await get(path);
    assert.equal(r.status, 200, path);
    assert.equal(r.headers['cache-control'], 'no-cache', path);
  }
});
