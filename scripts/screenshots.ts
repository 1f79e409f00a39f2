// Screenshots of the web app's main screens for docs/screenshots/: starts the real server on a
// temp dir, seeds folders, files, versions, a trash entry, a share link and two devices with sync
// history, then drives headless Chromium at phone (360×740) and desktop (1280×800) widths.
//
//   npm exec -- node scripts/screenshots.ts            # all screens, light, plus dark file browser
//   FERRY_SHOTS_DIR=/tmp/shots npm exec -- node scripts/screenshots.ts

import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  DESKTOP,
  PHONE,
  browserSkipReason,
  ensureWebBuild,
  launchBrowser,
  signIn,
} from '../e2e/web/browser-harness.ts';
import { TEST_ADMIN, startTestServer, type TestServer } from '../packages/server/src/testing/test-server.ts';

const ROOT = join(import.meta.dirname, '..');
const OUT = process.env.FERRY_SHOTS_DIR ?? join(ROOT, 'docs', 'screenshots');
const DAY = 86_400_000;

async function ok(res: Response, what: string): Promise<Response> {
  if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
  return res;
}

/** Logs the admin in as another device; returns its access token and id. */
async function loginAs(t: TestServer, name: string, kind: string) {
  const res = await ok(
    await t.request('/api/v1/auth/login', {
      method: 'POST',
      json: { ...TEST_ADMIN, device: { name, kind } },
    }),
    `login as ${name}`,
  );
  return (await res.json()) as { accessToken: string; deviceId: string };
}

async function upload(t: TestServer, path: string, body: string | Uint8Array, mtime: number) {
  const q = new URLSearchParams({ path, mtime: String(mtime) });
  await ok(
    await t.request(`/api/v1/files/upload?${q}`, {
      method: 'POST',
      token: t.adminToken,
      body: typeof body === 'string' ? body : Buffer.from(body),
      headers: { 'content-type': 'application/octet-stream' },
    }),
    `upload ${path}`,
  );
}

/** A deterministic pseudo-random run of sync events over the last two weeks. */
function syncEvents(n: number, seed: number, failFrom = Infinity) {
  let x = seed;
  const rnd = () => (x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const now = Date.now();
  return Array.from({ length: n }, (_, i) => {
    const failed = i >= failFrom || rnd() < 0.08;
    return {
      timestamp: now - (n - i) * ((14 * DAY) / n),
      total_files_synced: failed ? Math.floor(rnd() * 3) : 5 + Math.floor(rnd() * 120),
      total_errors: failed ? 1 + Math.floor(rnd() * 4) : 0,
      internet_speed: Math.round((20 + rnd() * 80) * 10) / 10,
      duration_ms: 2000 + Math.floor(rnd() * 30_000),
      bytes_up: Math.floor(rnd() * 50e6),
      bytes_down: Math.floor(rnd() * 80e6),
      ...(failed ? { status: 'failed', error_message: 'connection reset by peer' } : {}),
    };
  });
}

export interface Seeded {
  shareUrl: string;
}

/** Fills the admin's default space with something worth looking at. */
export async function seed(t: TestServer): Promise<Seeded> {
  const now = Date.now();
  for (const dir of ['/Photos', '/Documents', '/Music', '/Photos/2026 Lisbon'])
    await ok(
      await t.request('/api/v1/files/mkdir', { method: 'POST', token: t.adminToken, json: { path: dir } }),
      `mkdir ${dir}`,
    );
  const files: [string, number, number][] = [
    ['/Budget 2026.csv', 18_000, 2],
    ['/Holiday plan.md', 3_400, 5],
    ['/Lisbon-tram.jpg', 2_400_000, 9],
    ['/Morning run.fit', 84_000, 1],
    ['/Tax return.pdf', 512_000, 30],
    ['/backup-notes.txt', 900, 12],
    ['/site.tar.gz', 4_600_000, 40],
    ['/Photos/2026 Lisbon/IMG_0412.jpg', 3_100_000, 9],
    ['/Photos/2026 Lisbon/IMG_0413.jpg', 2_900_000, 9],
    ['/Music/demo.mp3', 3_800_000, 20],
  ];
  for (const [path, size, daysAgo] of files)
    await upload(t, path, new Uint8Array(size).fill(path.length), now - daysAgo * DAY);
  // Three versions of the plan.
  await upload(t, '/Holiday plan.md', '# Plan\n\n- flights\n- hotel\n- trams\n', now - 3 * DAY);
  await upload(t, '/Holiday plan.md', '# Plan\n\n- flights (booked)\n- hotel\n', now - 2 * HOUR);
  // Something in the trash.
  await upload(t, '/old draft.docx', 'draft', now - 60 * DAY);
  const list = (await (await t.request('/api/v1/files/list?path=/', { token: t.adminToken })).json()) as {
    entries: { id: string; name: string }[];
  };
  const draft = list.entries.find((e) => e.name === 'old draft.docx')!;
  await ok(await t.request(`/api/v1/files/${draft.id}`, { method: 'DELETE', token: t.adminToken }), 'delete');

  // Devices with a sync history; the NAS keeps failing.
  const laptop = await loginAs(t, 'Laptop', 'desktop');
  const phone = await loginAs(t, 'Pixel 9', 'mobile');
  const nas = await loginAs(t, 'Basement NAS', 'other');
  for (const [dev, events] of [
    [laptop, syncEvents(30, 7)],
    [phone, syncEvents(18, 3)],
    [nas, syncEvents(12, 5, 7)],
  ] as const)
    await ok(
      await t.request('/api/v1/sync-events', { method: 'POST', token: dev.accessToken, json: events }),
      'sync events',
    );
  // Events are written in batches: wait until the laptop's are readable.
  for (let i = 0; i < 50; i++) {
    const h = (await (
      await t.request(`/api/v1/devices/${laptop.deviceId}/sync-history?limit=50`, { token: t.adminToken })
    ).json()) as { events: unknown[] };
    if (h.events.length >= 30) break;
    await new Promise((r) => setTimeout(r, 100));
  }

  const share = (await (
    await ok(
      await t.request('/api/v1/shares', {
        method: 'POST',
        token: t.adminToken,
        json: { path: '/Lisbon-tram.jpg', expiresAt: now + 7 * DAY, maxDownloads: 10 },
      }),
      'share',
    )
  ).json()) as { token: string };
  return { shareUrl: `${t.url}/s/${share.token}` };
}
const HOUR = 3_600_000;

async function shot(page: Page, name: string): Promise<void> {
  // Let fonts, lazy chunks and transitions settle.
  await page.waitForLoadState('networkidle').catch(() => undefined);
  await page.waitForTimeout(150);
  const file = join(OUT, `${name}.png`);
  await page.screenshot({ path: file });
  const { size } = await stat(file);
  console.log(`  ${name}.png  ${(size / 1024).toFixed(0)} KB`);
}

async function openActions(page: Page, name: string): Promise<void> {
  await page.getByRole('button', { name: `Actions for ${name}` }).click();
  await page.getByRole('dialog').waitFor();
}

async function goto(page: Page, url: string, path: string): Promise<void> {
  await page.goto(url + path);
  await page.locator('main h1, main .row').first().waitFor();
}

async function screens(
  browser: Browser,
  t: TestServer,
  seeded: Seeded,
  size: 'phone' | 'desktop',
  storageState?: Awaited<ReturnType<BrowserContext['storageState']>>,
) {
  const device = size === 'phone' ? { ...PHONE, deviceScaleFactor: 1 } : DESKTOP;
  const context = await browser.newContext({ ...device, colorScheme: 'light', storageState });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  page.on('pageerror', (e) => console.error(`  page error: ${e.message}`));
  try {
    if (!storageState) {
      await page.goto(t.url + '/');
      await page.getByLabel('Username').waitFor();
      await shot(page, `sign-in-${size}`);
      await signIn(page, t.url, TEST_ADMIN);
    }
    await goto(page, t.url, '/files');
    await page.locator('.row[data-name="Tax return.pdf"]').waitFor();
    await shot(page, `files-${size}`);

    await openActions(page, 'Holiday plan.md');
    await page.getByRole('button', { name: 'Version history' }).click();
    await page
      .getByRole('button', { name: /Restore version/ })
      .first()
      .waitFor();
    await shot(page, `versions-${size}`);
    await page.keyboard.press('Escape');

    await openActions(page, 'Lisbon-tram.jpg');
    await page.getByRole('button', { name: 'Share link' }).click();
    await page.getByRole('button', { name: 'Create link' }).waitFor();
    await page.getByLabel('Download limit (optional)').fill('5');
    await shot(page, `share-dialog-${size}`);
    await page.keyboard.press('Escape');

    await goto(page, t.url, '/trash');
    await page.getByRole('button', { name: 'Restore old draft.docx' }).waitFor();
    await shot(page, `trash-${size}`);

    await goto(page, t.url, '/devices');
    await page.locator('[data-device="Laptop"] svg[role=img]').waitFor();
    await shot(page, `devices-${size}`);

    const state = await context.storageState();
    await context.close();

    // The public page, signed out.
    const stranger = await browser.newContext({ ...device, colorScheme: 'light' });
    const p = await stranger.newPage();
    await p.goto(seeded.shareUrl);
    await p.getByRole('link', { name: 'Download' }).waitFor();
    await shot(p, `public-share-${size}`);
    await stranger.close();
    return state;
  } finally {
    await context.close().catch(() => undefined);
  }
}

export async function main(): Promise<void> {
  const skip = browserSkipReason();
  if (skip) throw new Error(skip);
  ensureWebBuild();
  await mkdir(OUT, { recursive: true });
  const t = await startTestServer();
  const browser = await launchBrowser();
  try {
    const seeded = await seed(t);
    console.log(`Screenshots → ${OUT}`);
    // One sign-in (one web device); the desktop and dark runs reuse its session in turn.
    let state = await screens(browser, t, seeded, 'phone');
    state = await screens(browser, t, seeded, 'desktop', state);

    const dark = await browser.newContext({
      ...PHONE,
      deviceScaleFactor: 1,
      colorScheme: 'dark',
      storageState: state,
    });
    const page = await dark.newPage();
    await goto(page, t.url, '/files');
    await page.locator('.row[data-name="Tax return.pdf"]').waitFor();
    await shot(page, 'files-phone-dark');
    await goto(page, t.url, '/devices');
    await page.locator('[data-device="Laptop"] svg[role=img]').waitFor();
    await shot(page, 'devices-phone-dark');
    await dark.close();
  } finally {
    await browser.close();
    await t.close();
  }
}

if (import.meta.main) await main();
