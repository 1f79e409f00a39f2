// Shared set-up for browser end-to-end tests: the web build, the real Ferry server on port 0, and
// Debian's Chromium driven by playwright-core. Tests skip (with a reason) when Chromium is missing.

import { existsSync, statSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import type { TestServer } from '../../packages/server/src/testing/test-server.ts';

export const CHROMIUM = process.env.FERRY_CHROMIUM ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

const ROOT = join(import.meta.dirname, '..', '..');
export const WEB_DIR = join(ROOT, 'packages', 'web');
const DIST_INDEX = join(WEB_DIR, 'dist', 'index.html');

/** Why browser tests cannot run here, or null when they can. */
export function browserSkipReason(): string | null {
  return existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM} (apt-get install chromium)`;
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return newest;
}

/** Builds the web app when dist/ is missing or older than its sources (the server serves dist/). */
export function ensureWebBuild(): void {
  const stale =
    !existsSync(DIST_INDEX) ||
    statSync(DIST_INDEX).mtimeMs <
      Math.max(newestMtime(join(WEB_DIR, 'src')), statSync(join(WEB_DIR, 'index.html')).mtimeMs);
  if (!stale) return;
  execFileSync(
    process.execPath,
    [join(ROOT, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', '--logLevel', 'error'],
    { cwd: WEB_DIR, stdio: 'inherit' },
  );
}

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}

export const PHONE = {
  viewport: { width: 360, height: 740 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
} as const;
export const DESKTOP = { viewport: { width: 1280, height: 800 } } as const;

export interface WebAppUnderTest {
  t: TestServer;
  admin: { username: string; password: string };
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/**
 * The web build, the real server on port 0 and Chromium with one page in a new context (routes
 * added to the context later still apply to it). Closes what it started when a step fails.
 */
export async function openWebApp(
  contextOptions: BrowserContextOptions,
  timeoutMs: number,
): Promise<WebAppUnderTest> {
  ensureWebBuild();
  // Imported lazily so a machine without the server's dependencies can still list the skip.
  const mod = await import('../../packages/server/src/testing/test-server.ts');
  const t = await mod.startTestServer();
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const context = await browser.newContext(contextOptions);
    const page = await context.newPage();
    page.setDefaultTimeout(timeoutMs);
    const b = browser;
    return {
      t,
      admin: mod.TEST_ADMIN,
      browser,
      context,
      page,
      close: async () => {
        await b.close();
        await t.close();
      },
    };
  } catch (e) {
    await browser?.close();
    await t.close();
    throw e;
  }
}

/** Signs in through the login form and waits for the file browser. */
export async function signIn(page: Page, url: string, admin: { username: string; password: string }) {
  await page.goto(url + '/');
  await page.getByLabel('Username').fill(admin.username);
  await page.getByLabel('Password').fill(admin.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Upload', exact: true }).waitFor();
}
