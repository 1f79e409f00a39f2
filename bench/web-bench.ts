// Web app benchmark:
//   1. builds the web app (`npm run build -w @ferry/web`) and sums the gzipped size of the JS the
//      initial route loads: the entry script of dist/index.html and its modulepreload imports
//      (target ≤ 250 KB gz), cross-checked against the JS Chromium actually fetches;
//   2. starts `ferry server` as a child process, seeds 5,000 files into one folder through the
//      batched sync commit, and times the file browser in headless Chromium from navigation to
//      the moment the listing is rendered and responds to a tap (target ≤ 1 s), cold (fresh
//      browser profile, no service worker) and warm (reload, app shell from the service worker).
// Prints a table and writes bench/results/web.json.
//
//   npm exec -- node bench/web-bench.ts [--entries 5000] [--runs 5] [--no-build]

import { spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { DESKTOP, PHONE, browserSkipReason, launchBrowser } from '../e2e/web/browser-harness.ts';
import { ROOT, printTable, startChildServer, writeResult, type ChildServer } from './lib.ts';

const DIST = join(ROOT, 'packages', 'web', 'dist');
const FOLDER = '/bench-5000';
const TARGET_KB = 250;
const TARGET_MS = 1000;

const log = (s: string) => process.stderr.write(`[web-bench] ${s}\n`);
const gzKB = (b: Buffer) => gzipSync(b, { level: 9 }).length / 1024;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The entry script and modulepreloads of dist/index.html, with raw and gzipped sizes. */
export async function initialBundle(): Promise<{
  files: { file: string; kb: number; gzKB: number }[];
  gzKB: number;
}> {
  const html = await readFile(join(DIST, 'index.html'), 'utf8');
  const srcs = [
    ...html.matchAll(/<script\b[^>]*type="module"[^>]*\bsrc="([^"]+)"/g),
    ...html.matchAll(/<link\b[^>]*rel="modulepreload"[^>]*\bhref="([^"]+)"/g),
  ].map((m) => m[1]);
  const files = await Promise.all(
    [...new Set(srcs)].map(async (src) => {
      const bytes = await readFile(join(DIST, src.replace(/^\//, '')));
      return { file: src, kb: bytes.length / 1024, gzKB: gzKB(bytes) };
    }),
  );
  // Inline classic scripts (the listing prefetch) run before the bundle: they count too.
  for (const [n, m] of [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].entries()) {
    const bytes = Buffer.from(m[1]);
    files.push({ file: `index.html inline script ${n + 1}`, kb: bytes.length / 1024, gzKB: gzKB(bytes) });
  }
  return { files, gzKB: files.reduce((s, f) => s + f.gzKB, 0) };
}

async function api(s: ChildServer, path: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${s.token}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('content-type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const res = await fetch(s.url + path, { ...init, headers, body });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return res;
}

/** 5,000 files in one folder: one upload stores the content, batched commits of 1000 reuse its chunk. */
async function seedFolder(s: ChildServer, n: number): Promise<number> {
  const t0 = performance.now();
  const { spaces } = (await (await api(s, '/api/v1/spaces')).json()) as {
    spaces: { id: string; isDefault: boolean }[];
  };
  const space = spaces.find((x) => x.isDefault)!.id;
  const contents = ['a small note\n', 'another, slightly longer, note\n', 'x'.repeat(4000)].map((text) => {
    const bytes = Buffer.from(text);
    return { bytes, hash: createHash('sha256').update(bytes).digest('hex') };
  });
  for (const [i, c] of contents.entries())
    await api(s, `/api/v1/files/upload?path=${encodeURIComponent(`/seed-${i}.txt`)}`, {
      method: 'POST',
      body: c.bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
  const exts = ['jpg', 'txt', 'pdf', 'mp3', 'zip', 'md', 'fit', 'bin'];
  const now = Date.now();
  for (let start = 0; start < n; start += 1000) {
    const changes = Array.from({ length: Math.min(1000, n - start) }, (_, k) => {
      const i = start + k;
      const c = contents[i % contents.length];
      return {
        opId: randomUUID(),
        path: `${FOLDER}/file-${String(i).padStart(5, '0')}.${exts[i % exts.length]}`,
        kind: 'file',
        baseVersionId: null,
        size: c.bytes.length,
        mtime: now - i * 60_000,
        contentHash: c.hash,
        chunks: [{ hash: c.hash, size: c.bytes.length }],
      };
    });
    const r = (await (
      await api(s, `/api/v1/spaces/${space}/commit`, { method: 'POST', json: { changes } })
    ).json()) as { results: { status: string; error?: unknown }[] };
    const bad = r.results.find((x) => x.status !== 'ok');
    if (bad) throw new Error(`commit: ${JSON.stringify(bad)}`);
  }
  return performance.now() - t0;
}

/**
 * Runs in the page before the app: watches the DOM, and the moment the listing shows "N items"
 * with its rows it taps the first row's actions button and notes when the dialog opens. All
 * timestamps are performance.now(), i.e. ms since navigation start, taken in the page (no
 * round trips to the test driver in the measurement).
 */
function probe(n: number) {
  const w = window as unknown as { __ferryBench: Record<string, number> };
  w.__ferryBench = {};
  const marks = w.__ferryBench;
  const obs = new MutationObserver(() => {
    if (!marks.firstRows && document.querySelector('.vlist .row')) marks.firstRows = performance.now();
    if (!marks.listed) {
      const count = document.querySelector('.count');
      const btn = document.querySelector<HTMLButtonElement>('.vlist .row button[aria-label^="Actions for"]');
      if (count?.textContent === `${n} items` && btn) {
        marks.listed = performance.now();
        // Tap on the next frame, as a finger would after seeing the list.
        requestAnimationFrame(() => {
          marks.tapped = performance.now();
          btn.click();
        });
      }
    } else if (!marks.responded && document.querySelector('dialog[open]')) {
      marks.responded = performance.now();
      obs.disconnect();
    }
  });
  document.addEventListener('DOMContentLoaded', () =>
    obs.observe(document.body, { childList: true, subtree: true, characterData: true }),
  );
}

interface Timing {
  /** DOMContentLoaded end: the app's JS has loaded and run. */
  dcl: number;
  /** The first listing request went out / the last one came back. */
  listStart: number;
  listEnd: number;
  /** The first page of rows on screen (big folders render page by page). */
  firstRows: number;
  /** N items on screen with their rows. */
  listed: number;
  /** The tap on a row opened its dialog: the number reported as time to interactive. */
  tti: number;
  rows: number;
}

async function timeListing(page: Page, url: string, reload: boolean): Promise<Timing> {
  if (reload) await page.reload({ waitUntil: 'commit' });
  else await page.goto(url, { waitUntil: 'commit' });
  await page.waitForFunction(
    () => (window as unknown as { __ferryBench?: { responded?: number } }).__ferryBench?.responded,
    null,
    { timeout: 30_000, polling: 100 },
  );
  const t = await page.evaluate(() => {
    const m = (window as unknown as { __ferryBench: Record<string, number> }).__ferryBench;
    const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming;
    const lists = performance
      .getEntriesByType('resource')
      .filter((e) => e.name.includes('/api/v1/files/list')) as PerformanceResourceTiming[];
    return {
      dcl: nav.domContentLoadedEventEnd,
      listStart: Math.min(...lists.map((e) => e.startTime)),
      listEnd: Math.max(...lists.map((e) => e.responseEnd)),
      firstRows: m.firstRows,
      listed: m.listed,
      tti: m.responded,
      rows: document.querySelectorAll('.row').length,
    };
  });
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });
  return t;
}

export async function main(argv = process.argv.slice(2)): Promise<void> {
  const { values: args } = parseArgs({
    args: argv,
    options: {
      entries: { type: 'string', default: '5000' },
      runs: { type: 'string', default: '5' },
      'no-build': { type: 'boolean', default: false },
    },
  });
  const N = Number(args.entries);
  const RUNS = Number(args.runs);
  const skip = browserSkipReason();
  if (skip) throw new Error(skip);

  if (!args['no-build']) {
    log('building the web app');
    const b = spawnSync('npm', ['run', 'build', '-w', '@ferry/web'], {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    if (b.status !== 0) throw new Error('web build failed');
  }
  const bundle = await initialBundle();
  const css = await readFile(join(DIST, 'index.html'), 'utf8').then((h) =>
    [...h.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((m) => m[1]),
  );
  const cssGz = (await Promise.all(css.map((c) => readFile(join(DIST, c.replace(/^\//, '')))))).reduce(
    (s, b) => s + gzKB(b),
    0,
  );

  log('starting ferry server');
  const server = await startChildServer();
  const browser = await launchBrowser();
  try {
    log(`seeding ${N} files into ${FOLDER}`);
    const seedMs = await seedFolder(server, N);

    // Sign in once through the UI; each measured profile starts from that session.
    const setup = await browser.newContext(DESKTOP);
    const sp = await setup.newPage();
    await sp.goto(server.url + '/');
    await sp.getByLabel('Username').fill('admin');
    await sp.getByLabel('Password').fill('bench-password');
    await sp.getByRole('button', { name: 'Sign in' }).click();
    await sp.getByRole('button', { name: 'Upload', exact: true }).waitFor();
    // The profile of a returning user: the app has stored the session and the list of spaces (a
    // state captured before the spaces arrive would time a first visit's extra round trip instead).
    await sp.waitForFunction(() => localStorage.getItem('ferry.spaces'));
    const state = await setup.storageState();
    await setup.close();

    const url = `${server.url}/files${FOLDER}`;
    const results: Record<string, { cold: Timing[]; warm: Timing[] }> = {};
    let fetchedJs: string[] = [];
    for (const [label, device] of [
      ['desktop 1280×800', DESKTOP],
      ['phone 360×740', PHONE],
    ] as const) {
      const r = { cold: [] as Timing[], warm: [] as Timing[] };
      for (let i = 0; i < RUNS; i++) {
        // A fresh profile: empty HTTP cache, no service worker, no cached listing.
        const context = await browser.newContext({ ...device, storageState: state });
        await context.addInitScript(probe, N);
        const page = await context.newPage();
        const js: string[] = [];
        page.on('response', (res) => {
          if (res.request().resourceType() === 'script') js.push(new URL(res.url()).pathname);
        });
        r.cold.push(await timeListing(page, url, false));
        if (i === 0 && label.startsWith('desktop')) fetchedJs = js.filter((f) => f.startsWith('/assets/'));
        // Warm: the service worker now serves the app shell; the listing comes from the server again.
        await page.evaluate(() => navigator.serviceWorker.ready);
        r.warm.push(await timeListing(page, url, true));
        await context.close();
      }
      results[label] = r;
      log(
        `${label}: cold ${r.cold.map((x) => x.tti.toFixed(0)).join(', ')} ms; warm ${r.warm.map((x) => x.tti.toFixed(0)).join(', ')} ms`,
      );
    }

    const med = (ts: Timing[]) =>
      Object.fromEntries(
        (Object.keys(ts[0]) as (keyof Timing)[]).map((k) => [k, Math.round(median(ts.map((t) => t[k])))]),
      ) as unknown as Timing;
    const summary = Object.fromEntries(
      Object.entries(results).map(([label, r]) => [label, { cold: med(r.cold), warm: med(r.warm) }]),
    );
    const worst = Math.max(...Object.values(summary).map((r) => r.cold.tti));
    printTable(`Web app: initial route bundle (gzip -9)`, [
      ['asset', 'raw', 'gzip'],
      ...bundle.files.map((f) => [f.file, `${f.kb.toFixed(1)} KB`, `${f.gzKB.toFixed(1)} KB`]),
      ['JS total (target ≤ 250 KB gz)', '', `${bundle.gzKB.toFixed(1)} KB`],
      ['CSS', '', `${cssGz.toFixed(1)} KB`],
    ]);
    printTable(
      `Web app: file browser with ${N} entries, ms from navigation (median of ${RUNS}; TTI target ≤ ${TARGET_MS} ms)`,
      [
        [
          'profile',
          'JS ran (DCL)',
          'list requests',
          'first rows',
          `all ${N} shown`,
          'TTI (tap answered)',
          'DOM rows',
          'ok',
        ],
        ...Object.entries(summary).flatMap(([label, r]) =>
          (['cold', 'warm'] as const).map((k) => [
            `${label}, ${k === 'cold' ? 'cold' : 'warm (SW)'}`,
            r[k].dcl,
            `${r[k].listStart}–${r[k].listEnd}`,
            r[k].firstRows,
            r[k].listed,
            r[k].tti,
            `${r[k].rows} of ${N}`,
            r[k].tti <= TARGET_MS && r[k].rows < 200 ? 'yes' : 'NO',
          ]),
        ),
      ],
    );
    const load = loadavg().map((x) => x.toFixed(1));
    console.log(
      `\n  machine: ${cpus().length} CPUs, load average ${load.join(' ')} (other work shares the CPUs)`,
    );
    console.log(`  seeding ${N} files through batched commits: ${(seedMs / 1000).toFixed(1)} s`);
    const file = await writeResult('web', {
      entries: N,
      runs: RUNS,
      bundle: {
        initialJsGzKB: bundle.gzKB,
        initialCssGzKB: cssGz,
        files: bundle.files,
        fetchedJs,
        targetKB: TARGET_KB,
      },
      tti: summary,
      runsDetail: results,
      targetMs: TARGET_MS,
      seedMs,
      machine: { cpus: cpus().length, loadavg: loadavg() },
      pass: bundle.gzKB <= TARGET_KB && worst <= TARGET_MS,
    });
    console.log(`\nwrote ${file}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

if (import.meta.main) await main();
