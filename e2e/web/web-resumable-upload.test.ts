// Resumable browser uploads, in real headless Chromium against the real server: a multi-MiB file
// goes up in chunk batches over the sync protocol; the connection is cut after two batches and the
// page is reloaded; the upload then finishes from the IndexedDB queue without sending any chunk
// the server already had. Every /chunks request the page makes is seen (and cut) by page routing;
// the server's own answers count what it stored.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { Page, Route } from 'playwright-core';
import { hashBytes } from '../../packages/client/src/engine/file-hasher.ts';
import { unpackRefs } from '../../packages/client/src/engine/chunk-refs.ts';
import { waitFor } from '../sync/sync-harness.ts';
import { DESKTOP, browserSkipReason, openWebApp, signIn, type WebAppUnderTest } from './browser-harness.ts';

const skip = browserSkipReason();

/** The chunk hashes of a framed /chunks body (docs/sync-protocol.md). */
function frameHashes(body: Buffer): string[] {
  const out: string[] = [];
  for (let at = 0; at < body.length; at += 37 + body.readUInt32BE(at + 33))
    out.push(body.toString('hex', at, at + 32));
  return out;
}

interface Sent {
  hashes: string[];
  stored: number;
  received: number;
}

describe('resumable upload in Chromium', { skip: skip ?? false }, () => {
  let t: WebAppUnderTest['t'];
  let app: WebAppUnderTest | undefined;
  let page: Page;
  /** /chunks requests that reached the server, with its answer. */
  const sent: Sent[] = [];
  /** /chunks requests cut before they left the browser. */
  const cut: string[][] = [];
  /** How many more /chunks requests may pass (the rest are cut as if the network dropped). */
  let allowance = Infinity;

  async function onChunks(route: Route) {
    const hashes = frameHashes(route.request().postDataBuffer() ?? Buffer.alloc(0));
    if (allowance <= 0) {
      cut.push(hashes);
      await route.abort('internetdisconnected');
      return;
    }
    allowance--;
    const res = await route.fetch();
    const answer = (await res.json()) as { stored: number; received: number };
    sent.push({ hashes, ...answer });
    await route.fulfill({ response: res });
  }

  before(async () => {
    // No service worker: every request of the page goes through the route below.
    app = await openWebApp({ ...DESKTOP, serviceWorkers: 'block' }, 30_000);
    ({ t, page } = app);
    await app.context.route((url) => url.pathname === '/api/v1/chunks', onChunks);
    await signIn(page, t.url, app.admin);
  });

  after(() => app?.close());

  const row = (name: string) => page.locator(`.row[data-name="${name}"]`);
  const pick = (name: string, buffer: Buffer) =>
    page
      .locator('[data-testid=file-input]')
      .setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

  async function download(path: string): Promise<Buffer> {
    const res = await t.request(`/api/v1/files/download?path=${encodeURIComponent(path)}`, {
      token: t.adminToken,
    });
    assert.equal(res.status, 200);
    return Buffer.from(await res.arrayBuffer());
  }

  const original = randomBytes(8 * 1024 * 1024 + 4321);

  test('a dropped connection and a reload: the retry sends only the chunks the server lacks', async () => {
    allowance = 2;
    await pick('big.bin', original);
    // The third batch is cut: the network "drops" mid-upload.
    await waitFor('a chunk batch was cut', () => cut.length > 0, 30_000, 50);
    // The two batches let through may still be waiting for their answers when the third is cut.
    await waitFor('both batches let through were answered', () => sent.length === 2, 30_000, 50);
    const beforeDrop = new Set(sent.flatMap((s) => s.hashes));
    assert.ok(beforeDrop.size > 0);

    // Back online, in a fresh page: the item comes back from IndexedDB and finishes by itself.
    allowance = Infinity;
    await page.reload();
    await row('big.bin').waitFor();
    await page.getByTestId('queue-count').waitFor({ state: 'detached' });

    const engine = unpackRefs(hashBytes(original).refs).map((r) => r.hash);
    const all = sent.flatMap((s) => s.hashes);
    assert.equal(new Set(all).size, all.length, 'no chunk reached the server twice');
    assert.deepEqual(new Set(all), new Set(engine), "the page's chunks are the Node engine's chunks");
    const afterDrop = sent.slice(2).flatMap((s) => s.hashes);
    assert.ok(afterDrop.length > 0, 'the rest was sent after the reload');
    assert.ok(
      afterDrop.every((h) => !beforeDrop.has(h)),
      'chunks sent before the drop were not sent again',
    );
    // The server's own count: each chunk stored once, and it received no frame it already had.
    const unique = new Set(engine).size;
    assert.equal(
      sent.reduce((n, s) => n + s.stored, 0),
      unique,
    );
    assert.equal(
      sent.reduce((n, s) => n + s.received, 0),
      unique,
    );

    const bytes = await download('/big.bin');
    assert.equal(sha(bytes), sha(original));
    assert.ok(bytes.equals(original), 'downloaded byte-identical');
  });

  test('a new version of the file sends only its changed chunks and replaces it (no conflict copy)', async () => {
    const edited = Buffer.from(original);
    edited.write('an edit in the middle of the file', 4 * 1024 * 1024);
    const before = sent.length;
    await pick('big.bin', edited);
    await waitFor(
      'the edited file is the current version',
      async () => sha(await download('/big.bin')) === sha(edited),
      30_000,
      50,
    );
    const resent = sent.slice(before).flatMap((s) => s.hashes);
    assert.ok(
      resent.length >= 1 && resent.length <= 3,
      `only the edited chunks were sent (${resent.length})`,
    );
    const list = (await (await t.request('/api/v1/files/list?path=/', { token: t.adminToken })).json()) as {
      entries: { name: string; version: number }[];
    };
    assert.deepEqual(
      list.entries.filter((e) => e.name.startsWith('big')).map((e) => [e.name, e.version]),
      [['big.bin', 2]],
    );
  });
});
