// The web app end to end, in real headless Chromium against the real server, at phone size:
// sign in, upload by picker, list, download byte-identical, rename, delete and restore from trash,
// restore an older version, share a link and download through it signed out, and the offline queue.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { PHONE, browserSkipReason, openWebApp, type WebAppUnderTest } from './browser-harness.ts';

const skip = browserSkipReason();

describe('web app in Chromium', { skip: skip ?? false }, () => {
  let t: WebAppUnderTest['t'];
  let TEST_ADMIN: WebAppUnderTest['admin'];
  let app: WebAppUnderTest | undefined;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;

  before(async () => {
    app = await openWebApp({ ...PHONE, acceptDownloads: true }, 15_000);
    ({ t, admin: TEST_ADMIN, browser, context, page } = app);
  });

  after(() => app?.close());

  const row = (name: string) => page.locator(`.row[data-name="${name}"]`);

  async function openActions(name: string) {
    await page.getByRole('button', { name: `Actions for ${name}` }).click();
    await page.getByRole('dialog').waitFor();
  }

  async function pick(name: string, buffer: Buffer) {
    await page
      .locator('[data-testid=file-input]')
      .setInputFiles({ name, mimeType: 'application/octet-stream', buffer });
  }

  async function downloadVia(p: Page, click: () => Promise<void>): Promise<Buffer> {
    const [download] = await Promise.all([p.waitForEvent('download'), click()]);
    return readFile(await download.path());
  }

  test('sign in', async () => {
    await page.goto(t.url + '/');
    await page.getByLabel('Username').fill(TEST_ADMIN.username);
    await page.getByLabel('Password').fill('wrong-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').waitFor();
    await page.getByLabel('Password').fill(TEST_ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: 'Upload', exact: true }).waitFor();
    const devices = (await (await t.request('/api/v1/devices', { token: t.adminToken })).json()) as {
      devices: { kind: string }[];
    };
    assert.ok(
      devices.devices.some((d) => d.kind === 'web'),
      'the browser registered as a web device',
    );
  });

  const original = randomBytes(200_000);

  test('upload by picker, see it listed, download it byte-identical', async () => {
    await pick('report.bin', original);
    await row('report.bin').waitFor();
    assert.match(await row('report.bin').innerText(), /195 KB/);
    const bytes = await downloadVia(page, async () => {
      await openActions('report.bin');
      await page.getByRole('button', { name: 'Download' }).click();
    });
    assert.ok(bytes.equals(original), 'downloaded bytes equal the uploaded ones');
  });

  test('restore an older version', async () => {
    const v2 = Buffer.from('second version');
    await pick('report.bin', v2);
    await page.getByText('14 B').waitFor();
    await openActions('report.bin');
    await page.getByRole('button', { name: 'Version history' }).click();
    await page.getByRole('button', { name: 'Restore version 1' }).click();
    await page.getByRole('status').filter({ hasText: 'Restored version 1' }).waitFor();
    await page.keyboard.press('Escape');
    const res = await t.request('/api/v1/files/download?path=/report.bin', { token: t.adminToken });
    assert.ok(Buffer.from(await res.arrayBuffer()).equals(original), 'content is version 1 again');
    await row('report.bin').getByText('195 KB').waitFor();
  });

  test('rename', async () => {
    await openActions('report.bin');
    await page.getByRole('button', { name: 'Rename or move' }).click();
    await page.getByLabel(/New path/).fill('/renamed.bin');
    await page.getByRole('button', { name: 'Save' }).click();
    await row('renamed.bin').waitFor();
    assert.equal(await row('report.bin').count(), 0);
  });

  test('delete, then restore from the trash', async () => {
    await openActions('renamed.bin');
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('button', { name: 'Move to trash' }).click();
    await row('renamed.bin').waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Menu' }).click();
    await page.getByRole('link', { name: 'Trash' }).click();
    await page.getByRole('button', { name: 'Restore renamed.bin' }).click();
    await page.getByText('The trash is empty.').waitFor();
    await page.goto(t.url + '/files');
    await row('renamed.bin').waitFor();
  });

  test('create a share link and download through it signed out', async () => {
    await openActions('renamed.bin');
    await page.getByRole('button', { name: 'Share link' }).click();
    await page.getByLabel('Password (optional)').fill('open-sesame');
    await page.getByRole('button', { name: 'Create link' }).click();
    const url = await page.getByTestId('share-url').inputValue();
    assert.match(url, /\/s\/[A-Za-z0-9_-]{43}$/);
    await page.keyboard.press('Escape');

    const stranger = await browser.newContext({ ...PHONE, acceptDownloads: true });
    try {
      const p = await stranger.newPage();
      await p.goto(url);
      await p.getByText('This link is protected').waitFor();
      await p.getByLabel('Password').fill('open-sesame');
      await p.getByRole('button', { name: 'Open' }).click();
      await p.getByRole('heading', { name: 'renamed.bin' }).waitFor();
      const bytes = await downloadVia(p, () => p.getByRole('link', { name: 'Download' }).click());
      assert.ok(bytes.equals(original), 'the stranger gets the same bytes');
    } finally {
      await stranger.close();
    }
    const shares = (await (await t.request('/api/v1/shares', { token: t.adminToken })).json()) as {
      shares: { downloads: number }[];
    };
    assert.equal(shares.shares[0].downloads, 1);
  });

  test('offline: a file picked while offline waits in the queue, survives a reload, and uploads when back online', async () => {
    // The service worker must control the page for the app to load offline.
    await page.evaluate(async () => {
      await navigator.serviceWorker.ready;
      if (!navigator.serviceWorker.controller)
        await new Promise((r) =>
          navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }),
        );
    });
    await context.setOffline(true);
    await page.getByText('Offline', { exact: true }).waitFor();
    const queued = Buffer.from('written on the train');
    await pick('offline-note.txt', queued);
    await page.getByTestId('queue-count').filter({ hasText: '1' }).waitFor();

    await page.reload();
    await page.getByTestId('queue-count').filter({ hasText: '1' }).waitFor();
    await page.getByText(/showing this folder as it was/).waitFor();
    const list1 = (await (await t.request('/api/v1/files/list?path=/', { token: t.adminToken })).json()) as {
      entries: { name: string }[];
    };
    assert.ok(
      !list1.entries.some((e) => e.name === 'offline-note.txt'),
      'nothing reached the server while offline',
    );

    await context.setOffline(false);
    await row('offline-note.txt').waitFor();
    await page.getByTestId('queue-count').waitFor({ state: 'detached' });
    const res = await t.request('/api/v1/files/download?path=/offline-note.txt', { token: t.adminToken });
    assert.equal(await res.text(), 'written on the train');
  });

  test('sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    assert.equal(await page.evaluate(() => localStorage.getItem('ferry.session')), null);
  });
});
