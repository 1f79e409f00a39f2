// Property test of the sync engine (fast-check): three devices, each a real `ferry` CLI against a
// real server process, apply random creates, edits, renames and deletes, sync at random moments
// (a device that does not sync is offline), and the server restarts now and then. At the end,
// after every device has synced, all trees are identical, and every content a device held when it
// synced survives on the server: at its path, renamed, as a conflict copy, or in versions.
//
// FERRY_PROPERTY_RUNS sets the number of runs (default 4; each is a few dozen CLI calls);
// FERRY_PROPERTY_SEED and FERRY_PROPERTY_PATH replay a failure (the seed and path fast-check printed).

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ADMIN, Device, ServerHandle, converged, sha, treeOf } from './sync-harness.ts';

const RUNS = Number(process.env.FERRY_PROPERTY_RUNS ?? 4);
const REPLAY = process.env.FERRY_PROPERTY_SEED
  ? { seed: Number(process.env.FERRY_PROPERTY_SEED), path: process.env.FERRY_PROPERTY_PATH }
  : {};
const NAMES = ['a.txt', 'b.txt', 'docs/c.txt', 'docs/d.txt', 'docs/deep/e.txt'];

type Op =
  | { t: 'write'; d: number; f: string }
  | { t: 'rm'; d: number; f: string }
  | { t: 'mv'; d: number; from: string; to: string }
  | { t: 'sync'; d: number }
  | { t: 'restart' };

const dev = fc.integer({ min: 0, max: 2 });
const name = fc.constantFrom(...NAMES);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('write' as const), d: dev, f: name }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('rm' as const), d: dev, f: name }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('mv' as const), d: dev, from: name, to: name }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('sync' as const), d: dev }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('restart' as const) }) },
);

const server = new ServerHandle();
let adminToken = '';
let run = 0;

before(async () => {
  await server.start();
  const res = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: ADMIN.user, password: ADMIN.password }),
  });
  adminToken = ((await res.json()) as { accessToken: string }).accessToken;
});
after(() => server.dispose());

async function freshUser(): Promise<{ user: string; password: string }> {
  const user = `prop${++run}`;
  const password = `password-${run}-xyz`;
  const res = await fetch(`${server.url}/api/v1/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify({ username: user, password }),
  });
  assert.equal(res.status, 201, await res.text());
  return { user, password };
}

/**
 * One `ferry sync`, run as its user would: a pass halts rather than delete everything when the
 * folder is empty (a lost mount looks the same), and here every file is gone because this test's
 * own ops removed them, so the user confirms it (`ferry sync --allow-delete-all`).
 */
async function sync(d: Device): Promise<void> {
  const r = await d.cli('sync', d.root, '--json');
  const report = JSON.parse(r.stdout || '{}') as { status?: string };
  if (report.status === 'halted' && (await treeOf(d.root)).size === 0)
    await d.cli('sync', d.root, '--allow-delete-all');
}

/** Every contentHash the server has ever recorded for the user's default space. */
async function serverHashes(device: Device, user: string, password: string): Promise<Set<string>> {
  const all = new Set<string>();
  const s = JSON.parse(await device.ok('status', device.root, '--json')) as { spaceId: string };
  const login = await fetch(`${server.url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: user, password }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  let since = 0;
  for (;;) {
    const res = await fetch(`${server.url}/api/v1/spaces/${s.spaceId}/changes?since=${since}&limit=1000`, {
      headers: { authorization: `Bearer ${accessToken}` },
    });
    assert.equal(res.status, 200, await res.clone().text());
    const page = (await res.json()) as {
      changes: { contentHash: string | null }[];
      hasMore: boolean;
      cursor: number;
    };
    for (const c of page.changes) if (c.contentHash) all.add(c.contentHash);
    if (!page.hasMore) return all;
    since = page.cursor;
  }
}

// About a minute on an idle 2-core machine; npm test's 120 s default is too tight when the machine is shared.
test(
  'three devices with random edits, renames, deletes, offline periods and server restarts converge and lose nothing',
  { timeout: 300_000 },
  async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 4, maxLength: 14 }), async (ops) => {
        const { user, password } = await freshUser();
        const devices = await Promise.all(['one', 'two', 'three'].map((n) => Device.create(`${n}-${run}`)));
        try {
          for (const d of devices) await d.setup(server, user, password);
          const mustSurvive = new Set<string>();
          const written = new Set<string>();
          let counter = 0;
          const remember = async (d: Device) => {
            for (const [path, hash] of await treeOf(d.root)) if (!path.endsWith('/')) mustSurvive.add(hash);
          };
          for (const op of ops) {
            if (op.t === 'restart') {
              await server.stop();
              await server.start();
              continue;
            }
            const d = devices[op.d];
            if (op.t === 'write') {
              const body = `run ${run} write ${++counter} on ${d.name}`;
              written.add(sha(body));
              await mkdir(dirname(join(d.root, op.f)), { recursive: true });
              await writeFile(join(d.root, op.f), body);
            } else if (op.t === 'rm') {
              await rm(join(d.root, op.f), { force: true });
            } else if (op.t === 'mv') {
              if (op.from === op.to) continue;
              await mkdir(dirname(join(d.root, op.to)), { recursive: true });
              await rename(join(d.root, op.from), join(d.root, op.to)).catch(() => undefined);
            } else {
              await remember(d);
              await sync(d);
            }
          }
          // Everyone comes online and syncs until nothing moves.
          let tree: Map<string, string> | false = false;
          for (let round = 0; round < 4 && !tree; round++) {
            for (const d of devices) {
              await remember(d);
              await sync(d);
            }
            tree = await converged(devices);
          }
          assert.ok(tree, 'all trees converge');
          for (const [path, hash] of tree)
            if (!path.endsWith('/')) assert.ok(written.has(hash), `${path} holds content someone wrote`);
          const kept = await serverHashes(devices[0], user, password);
          for (const h of mustSurvive)
            assert.ok(kept.has(h), `content ${h.slice(0, 12)} survives on the server`);
        } finally {
          for (const d of devices) await d.dispose();
        }
      }),
      { numRuns: RUNS, endOnFailure: true, ...REPLAY },
    );
  },
);
