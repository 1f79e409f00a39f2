// More of the web app end to end, at phone size in real headless Chromium against the real server:
// new folder, several files and a whole folder uploaded with visible progress, search and sort,
// the devices page with a device's sync-history chart and the repeatedly failing devices,
// share links listed and revoked, emptying the trash, admin users, and checkpoints degrading
// gracefully on a server without that API.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PHONE, browserSkipReason, openWebApp, signIn, type WebAppUnderTest } from './browser-harness.ts';

const skip = browserSkipReason();

describe('web app screens in Chromium', { skip: skip ?? false }, () => {
  let t: WebAppUnderTest['t'];
  let TEST_ADMIN: WebAppUnderTest['admin'];
  let app: WebAppUnderTest | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let tmp: string;

  before(async () => {
    app = await openWebApp({ ...PHONE }, 15_000);
    ({ t, admin: TEST_ADMIN, browser, context, page } = app);
    tmp = await mkdtemp(join(tmpdir(), 'ferry-web-e2e-'));
    await signIn(page, t.url, TEST_ADMIN);
  });

  after(async () => {
    await app?.close();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  const row = (name: string) => page.locator(`.row[data-name="${name}"]`);

  async function list(path: string): Promise<{ name: string; size: number; kind: string }[]> {
    const res = await t.request(`/api/v1/files/list?path=${encodeURIComponent(path)}`, {
      token: t.adminToken,
    });
    return ((await res.json()) as { entries: { name: string; size: number; kind: string }[] }).entries;
  }

  test('new folder, then open it through its row and back through the breadcrumbs', async () => {
    await page.getByRole('button', { name: 'New folder' }).click();
    await page.getByLabel('Folder name').fill('Holiday');
    await page.getByRole('button', { name: 'Create' }).click();
    await row('Holiday').waitFor();
    assert.ok((await list('/')).some((e) => e.name === 'Holiday' && e.kind === 'dir'));
    await row('Holiday').getByRole('link').click();
    await page.waitForURL(/\/files\/Holiday$/);
    await page
      .getByRole('navigation', { name: 'Breadcrumbs' })
      .getByRole('link', { name: 'Holiday' })
      .waitFor();
    await page.getByText('This folder is empty').waitFor();
  });

  test('several files upload at once, each with a progress bar, and all arrive', async () => {
    // Throttle uploads so the progress bars are on screen long enough to see them move.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: 4 * 1024 * 1024,
    });
    const files = [
      { name: 'a.jpg', mimeType: 'image/jpeg', buffer: randomBytes(2_000_000) },
      { name: 'b.jpg', mimeType: 'image/jpeg', buffer: randomBytes(2_000_000) },
      { name: 'c.txt', mimeType: 'text/plain', buffer: Buffer.from('three') },
    ];
    try {
      // Record every progress value the page shows, so the check does not depend on polling.
      await page.evaluate(() => {
        const seen: number[] = [];
        (window as unknown as { __progress: number[] }).__progress = seen;
        new MutationObserver(() =>
          document
            .querySelectorAll<HTMLProgressElement>('.uploads progress')
            .forEach((p) => seen.push(p.value)),
        ).observe(document.body, { subtree: true, childList: true, attributes: true });
      });
      await page.locator('[data-testid=file-input]').setInputFiles(files);
      await page.getByTestId('queue-count').waitFor();
      assert.ok(
        (await page.locator('.uploads progress').count()) >= 2,
        'a progress bar per file waiting or in flight',
      );
      for (const f of files) await row(f.name).waitFor();
      await page.getByTestId('queue-count').waitFor({ state: 'detached' });
      const seen = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
      assert.ok(
        seen.some((v) => v > 0 && v < 100),
        `a bar showed partial progress (saw ${[...new Set(seen)].join(', ')})`,
      );
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false,
        latency: 0,
        downloadThroughput: -1,
        uploadThroughput: -1,
      });
    }
    const server = await list('/Holiday');
    for (const f of files)
      assert.equal(server.find((e) => e.name === f.name)?.size, f.buffer.length, `${f.name} complete`);
  });

  test('a whole folder uploads with its subfolders', async () => {
    const dir = join(tmp, 'Camera');
    await mkdir(join(dir, 'Raw'), { recursive: true });
    await writeFile(join(dir, 'one.jpg'), randomBytes(10_000));
    await writeFile(join(dir, 'Raw', 'two.dng'), randomBytes(20_000));
    await page.locator('[data-testid=folder-input]').setInputFiles(dir);
    await row('Camera').waitFor();
    await page.getByTestId('queue-count').waitFor({ state: 'detached' });
    assert.deepEqual((await list('/Holiday/Camera')).map((e) => e.name).sort(), ['Raw', 'one.jpg']);
    assert.deepEqual(
      (await list('/Holiday/Camera/Raw')).map((e) => [e.name, e.size]),
      [['two.dng', 20_000]],
    );
  });

  test('search by name and sort by size', async () => {
    await page.getByLabel('Search by name').fill('JPG');
    await row('a.jpg').waitFor();
    await row('c.txt').waitFor({ state: 'detached' });
    assert.equal(await row('Camera').count(), 0);
    // The whole space: the server finds a file two folders down.
    await page.getByLabel('Search by name').fill('two');
    await page.getByText('Nothing matches your search.').waitFor();
    await page.getByLabel('Search the whole space').check();
    await row('two.dng').getByText('in /Holiday/Camera/Raw').waitFor();
    await page.getByLabel('Search by name').fill('');
    await page.getByLabel('Sort by').selectOption('size:asc');
    const names = await page
      .locator('.row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-name')));
    // Folders first, then files from the smallest up.
    assert.deepEqual(names.slice(0, 2), ['Camera', 'c.txt']);
  });

  test('the devices page charts a device’s sync history and lists devices failing repeatedly', async () => {
    const login = async (name: string) => {
      const res = await t.request('/api/v1/auth/login', {
        method: 'POST',
        json: { ...TEST_ADMIN, device: { name, kind: name === 'Laptop' ? 'desktop' : 'other' } },
      });
      return (await res.json()) as { accessToken: string; deviceId: string };
    };
    const laptop = await login('Laptop');
    const nas = await login('NAS');
    const now = Date.now();
    const runs = (n: number, failing: boolean) =>
      Array.from({ length: n }, (_, i) => ({
        timestamp: now - (n - i) * 3_600_000,
        total_files_synced: failing ? 0 : 10 + i,
        total_errors: failing ? 2 : 0,
        internet_speed: 40 + i,
        ...(failing ? { error_message: 'disk full' } : {}),
      }));
    for (const [dev, events] of [
      [laptop, runs(12, false)],
      [nas, runs(5, true)],
    ] as const) {
      const res = await t.request('/api/v1/sync-events', {
        method: 'POST',
        token: dev.accessToken,
        json: events,
      });
      assert.equal(res.status, 202);
    }
    // Ingest is batched: wait until the history is readable.
    for (let i = 0; i < 100; i++) {
      const h = (await (
        await t.request(`/api/v1/devices/${laptop.deviceId}/sync-history`, { token: t.adminToken })
      ).json()) as { events: unknown[] };
      if (h.events.length === 12) break;
      await new Promise((r) => setTimeout(r, 50));
    }

    await page.goto(t.url + '/devices');
    const card = page.locator('[data-device="Laptop"]');
    await card.getByRole('img', { name: /12 sync runs .*0 failed/ }).waitFor();
    assert.equal(await card.locator('rect.bar').count(), 12, 'a bar per run');
    assert.match(await card.innerText(), /desktop · last seen just now · last sync 1 h ago \(ok\)/);
    const failing = page.getByRole('list', { name: 'Devices failing repeatedly' });
    await failing.getByText('NAS').waitFor();
    assert.match(await failing.innerText(), /5 failures in a row.*disk full/s);
    await page.locator('[data-device="NAS"] rect.bar.failed').first().waitFor();
  });

  test('share links are listed and can be revoked; the revoked link stops working', async () => {
    await page.goto(t.url + '/files/Holiday');
    await page.getByRole('button', { name: 'Actions for c.txt' }).click();
    await page.getByRole('button', { name: 'Share link' }).click();
    await page.getByLabel('Download limit (optional)').fill('3');
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByTestId('share-url').inputValue();
    await page.keyboard.press('Escape');

    await page.goto(t.url + '/shares');
    const item = page.locator('.row[data-path="/Holiday/c.txt"]');
    await item.getByText(/0 downloads of 3 · expires/).waitFor();
    await item.getByRole('button', { name: 'Revoke link to /Holiday/c.txt' }).click();
    await page.getByText('No share links yet.').waitFor();

    const stranger = await browser.newContext({ ...PHONE });
    try {
      const p = await stranger.newPage();
      await p.goto(url);
      await p.getByRole('heading', { name: 'Link unavailable' }).waitFor();
    } finally {
      await stranger.close();
    }
  });

  test('empty the trash', async () => {
    await page.goto(t.url + '/files/Holiday');
    await page.getByRole('button', { name: 'Actions for c.txt' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Move to trash' }).click();
    await row('c.txt').waitFor({ state: 'detached' });
    await page.goto(t.url + '/trash');
    await page.getByRole('button', { name: 'Restore c.txt' }).waitFor();
    await page.getByRole('button', { name: 'Empty trash' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Empty trash' }).click();
    await page.getByText('The trash is empty.').waitFor();
    const trash = (await (await t.request('/api/v1/trash', { token: t.adminToken })).json()) as {
      entries: unknown[];
    };
    assert.equal(trash.entries.length, 0);
  });

  test('admin creates a user on the users page', async () => {
    await page.goto(t.url + '/admin');
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Password').fill('carol-password-1');
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator('.row').filter({ hasText: 'carol' }).waitFor();
  });

  test('a folder of 2,500 entries lists completely, with only the rows in view in the DOM', async () => {
    const { spaces } = (await (await t.request('/api/v1/spaces', { token: t.adminToken })).json()) as {
      spaces: { id: string; isDefault: boolean }[];
    };
    const space = spaces.find((x) => x.isDefault)!.id;
    const body = Buffer.from('x');
    const hash = createHash('sha256').update(body).digest('hex');
    await t.request('/api/v1/files/upload?path=/seed.txt', {
      method: 'POST',
      token: t.adminToken,
      body,
      headers: { 'content-type': 'application/octet-stream' },
    });
    for (let start = 0; start < 2500; start += 1000) {
      const changes = Array.from({ length: Math.min(1000, 2500 - start) }, (_, k) => ({
        opId: randomUUID(),
        path: `/Big/f-${String(start + k).padStart(5, '0')}.txt`,
        kind: 'file',
        baseVersionId: null,
        size: 1,
        mtime: Date.now(),
        contentHash: hash,
        chunks: [{ hash, size: 1 }],
      }));
      const res = await t.request(`/api/v1/spaces/${space}/commit`, {
        method: 'POST',
        token: t.adminToken,
        json: { changes },
      });
      assert.equal(res.status, 200);
    }
    await page.goto(t.url + '/files/Big');
    await page.getByText('2500 items', { exact: true }).waitFor();
    assert.ok((await page.locator('.row').count()) < 100, 'the list is virtualized');
    await page.evaluate(() => window.scrollTo(0, document.body.scrollHeight));
    await row('f-02499.txt').waitFor();
    await row('f-00000.txt').waitFor({ state: 'detached' });
  });

  test('conflicts: two devices edit the same file; the conflicts page lists the copy', async () => {
    const { spaces } = (await (await t.request('/api/v1/spaces', { token: t.adminToken })).json()) as {
      spaces: { id: string; isDefault: boolean }[];
    };
    const space = spaces.find((x) => x.isDefault)!.id;
    // Two small contents whose chunks the server stores (a one-chunk file's hash is its chunk's).
    const content = async (text: string) => {
      const body = Buffer.from(text);
      await t.request(`/api/v1/files/upload?path=/seed-${text}.txt`, {
        method: 'POST',
        token: t.adminToken,
        body,
        headers: { 'content-type': 'application/octet-stream' },
      });
      const hash = createHash('sha256').update(body).digest('hex');
      return { size: body.length, contentHash: hash, chunks: [{ hash, size: body.length }] };
    };
    const device = async (name: string) =>
      (
        (await (
          await t.request('/api/v1/auth/login', {
            method: 'POST',
            json: { ...TEST_ADMIN, device: { name, kind: 'desktop' } },
          })
        ).json()) as { accessToken: string }
      ).accessToken;
    const commit = async (token: string, change: Record<string, unknown>) => {
      const res = await t.request(`/api/v1/spaces/${space}/commit`, {
        method: 'POST',
        token,
        json: { changes: [{ opId: randomUUID(), path: '/plan.md', kind: 'file', ...change }] },
      });
      return ((await res.json()) as { results: { status: string; versionId: string; fileId: string }[] })
        .results[0];
    };
    const desk = await device('Desk');
    const train = await device('Train laptop');
    const v1 = await commit(desk, { baseVersionId: null, mtime: 1_000, ...(await content('base')) });
    const base = { fileId: v1.fileId, baseVersionId: v1.versionId };
    assert.equal((await commit(desk, { ...base, mtime: 3_000, ...(await content('desk')) })).status, 'ok');
    assert.equal(
      (await commit(train, { ...base, mtime: 2_000, ...(await content('train')) })).status,
      'conflict',
    );
    await page.goto(t.url + '/conflicts');
    const copy = page.locator('.row').filter({ hasText: /plan \(conflict from Train laptop/ });
    await copy.waitFor();
    await copy.getByRole('link', { name: 'Open folder' }).click();
    await page.waitForURL(/\/files$/);
    await page.locator('.row[data-name^="plan (conflict from Train laptop"]').waitFor();
  });

  test('spaces: create one, switch to it, and add a member', async () => {
    await page.goto(t.url + '/spaces');
    await page.getByLabel('New space').fill('Family');
    await page.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('button', { name: 'Open' }).waitFor();
    await page.locator('.row').filter({ hasText: 'Family' }).getByRole('button', { name: 'Open' }).click();
    await page.waitForURL(/\/files$/);
    assert.equal(
      await page.locator('.space-pick select').evaluate((s: HTMLSelectElement) => s.selectedOptions[0].text),
      'Family',
    );
    await page.getByText('This folder is empty').waitFor();
    await page.goto(t.url + '/spaces');
    await page.getByLabel('Username').fill('carol');
    await page.getByLabel('Role').selectOption('viewer');
    await page.getByRole('button', { name: 'Add or change' }).click();
    await page.locator('.row').filter({ hasText: 'carol' }).getByText('viewer').waitFor();
    // Back to the default space for the tests that follow.
    await page.locator('.space-pick select').selectOption({ label: 'default' });
    await page.waitForURL(/\/files$/);
  });

  test('checkpoints: works when the server has the API, and says so plainly when it does not', async () => {
    await page.goto(t.url + '/checkpoints');
    await page.getByRole('heading', { name: 'Checkpoints' }).waitFor();
    await page
      .getByText('This server does not support checkpoints yet.')
      .or(page.getByLabel('Checkpoint name'))
      .waitFor();
    assert.equal(await page.getByRole('alert').count(), 0, 'no error shown');
  });
});
