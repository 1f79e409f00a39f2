// The watch API against the real server: upload limits and types, the configured folder, the
// paged listing, download limits, and the token in the query string.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { startTestServer, type TestServer, type TestUser } from '../testing/test-server.ts';

const KB = 1024;

void describe('watch (Garmin) API', () => {
  let ts: TestServer;
  let watch: TestUser;
  const upload = (name: string, body: Uint8Array | string, o: { token?: string; query?: boolean } = {}) => {
    const token = o.token ?? watch.token;
    const q = o.query ? `&token=${encodeURIComponent(token)}` : '';
    return ts.request(`/api/v1/garmin/upload?name=${encodeURIComponent(name)}${q}`, {
      method: 'POST',
      token: o.query ? undefined : token,
      headers: { 'content-type': 'application/octet-stream' },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
  };

  before(async () => {
    ts = await startTestServer({ garminFolder: '/Garmin/Activities' });
    watch = await ts.user('runner', undefined, { name: 'fenix', kind: 'watch' });
  });
  after(async () => ts.close());

  void it('stores .fit/.gpx/.tcx/.json up to exactly 100 KB in the configured folder', async () => {
    const fit = new Uint8Array(100 * KB).map((_, i) => i % 251);
    const res = await upload('morning-run.fit', fit);
    assert.equal(res.status, 201);
    const body = (await res.json()) as { id: string; path: string; size: number };
    assert.equal(body.path, '/Garmin/Activities/morning-run.fit');
    assert.equal(body.size, 100 * KB);
    for (const name of ['a.gpx', 'b.TCX', 'c.json'])
      assert.equal((await upload(name, '{"x":1}')).status, 201, name);
    // The file is an ordinary file of the owner's default space, with the same bytes.
    const dl = await ts.request(`/api/v1/files/download?path=${encodeURIComponent(body.path)}`, {
      token: watch.token,
    });
    assert.equal(dl.status, 200);
    assert.equal(
      createHash('sha256')
        .update(Buffer.from(await dl.arrayBuffer()))
        .digest('hex'),
      createHash('sha256').update(fit).digest('hex'),
    );
  });

  void it('refuses uploads over 100 KB, of other types, empty ones and paths as names', async () => {
    const over = await upload('big.fit', new Uint8Array(100 * KB + 1));
    assert.equal(over.status, 413);
    assert.equal(((await over.json()) as { error: { code: string } }).error.code, 'PAYLOAD_TOO_LARGE');
    const exe = await upload('evil.exe', 'MZ');
    assert.equal(exe.status, 415);
    assert.equal((await upload('.fit', 'x')).status, 415);
    assert.equal((await upload('empty.fit', '')).status, 400);
    assert.equal((await upload('../../etc/x.fit', 'x')).status, 400);
    assert.equal(
      (await ts.request('/api/v1/garmin/upload?name=a.fit', { method: 'POST', body: 'x' })).status,
      401,
    );
    const listing = (await (
      await ts.request('/api/v1/files/list?path=/Garmin/Activities', { token: watch.token })
    ).json()) as { entries: { path: string }[] };
    assert.deepEqual(listing.entries.map((e) => e.path.split('/').pop()).sort(), [
      'a.gpx',
      'b.TCX',
      'c.json',
      'morning-run.fit',
    ]);
  });

  void it('accepts the token in the query string', async () => {
    const res = await upload('q.gpx', '<gpx/>', { query: true });
    assert.equal(res.status, 201);
    const list = await ts.request(`/api/v1/garmin/files?limit=50&token=${encodeURIComponent(watch.token)}`);
    assert.equal(list.status, 200);
  });

  void it('lists only files a watch may take, in small pages', async () => {
    // A big file and a non-watch file through the ordinary upload: they must not be listed.
    const put = (path: string, size: number) =>
      ts.request(`/api/v1/files/upload?path=${encodeURIComponent(path)}`, {
        method: 'POST',
        token: watch.token,
        headers: { 'content-type': 'application/octet-stream' },
        body: Buffer.alloc(size, 1),
      });
    assert.equal((await put('/Routes/long.gpx', 200 * KB)).status, 200);
    assert.equal((await put('/Routes/photo.jpg', 10)).status, 200);
    assert.equal((await put('/Routes/short.gpx', 10)).status, 200);
    const names: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await ts.request(`/api/v1/garmin/files?limit=2${cursor ? `&cursor=${cursor}` : ''}`, {
        token: watch.token,
      });
      assert.equal(res.status, 200);
      const text = await res.text();
      assert.ok(text.length < 2 * KB, 'a page fits easily in a watch app');
      const page = JSON.parse(text) as { files: { name: string; size: number }[]; cursor: string | null };
      assert.ok(page.files.length <= 2);
      names.push(...page.files.map((f) => f.name));
      cursor = page.cursor;
      pages++;
    } while (cursor && pages < 20);
    assert.deepEqual(names.sort(), ['a.gpx', 'b.TCX', 'c.json', 'morning-run.fit', 'q.gpx', 'short.gpx']);
    const routes = (await (
      await ts.request('/api/v1/garmin/files?path=/Routes', { token: watch.token })
    ).json()) as { files: { name: string }[] };
    assert.deepEqual(
      routes.files.map((f) => f.name),
      ['short.gpx'],
    );
  });

  void it('downloads watch files and refuses big or foreign ones', async () => {
    const info = async (path: string) =>
      (
        (await (await ts.request(`/api/v1/files/list?path=${path}`, { token: watch.token })).json()) as {
          entries: { id: string; path: string }[];
        }
      ).entries;
    const routes = await info('/Routes');
    const id = (n: string) => routes.find((e) => e.path.endsWith(n))!.id;
    const ok = await ts.request(
      `/api/v1/garmin/download/${id('short.gpx')}?token=${encodeURIComponent(watch.token)}`,
    );
    assert.equal(ok.status, 200);
    assert.equal((await ok.arrayBuffer()).byteLength, 10);
    assert.equal(
      (await ts.request(`/api/v1/garmin/download/${id('long.gpx')}`, { token: watch.token })).status,
      413,
    );
    assert.equal(
      (await ts.request(`/api/v1/garmin/download/${id('photo.jpg')}`, { token: watch.token })).status,
      415,
    );
    const other = await ts.user('stranger');
    assert.equal(
      (await ts.request(`/api/v1/garmin/download/${id('short.gpx')}`, { token: other.token })).status,
      404,
    );
  });
});
