// `ferry server` as a real process: help, config errors, first start, graceful shutdown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';

const FERRY = join(import.meta.dirname, '..', '..', 'packages', 'cli', 'bin', 'ferry.js');
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_')));

function run(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [FERRY, ...args], { encoding: 'utf8', env: { ...cleanEnv, ...env } });
}

/** Starts `ferry server` on a free port and resolves with its URL once it listens. */
async function startServer(
  dataDir: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const child = spawn(process.execPath, [FERRY, 'server', '--port', '0', '--data', dataDir], {
    env: { ...cleanEnv, FERRY_LOG_LEVEL: 'info', ...env },
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    child.stdout.on('data', () => {
      const m = /Ferry is listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('exit', (code) => reject(new Error(`server exited ${code}:\n${out}`)));
  });
  return { child, url, output: () => out };
}

test('ferry --help and ferry server --help document every option', () => {
  const top = run(['--help']);
  assert.equal(top.status, 0);
  assert.match(top.stdout, /server/);
  const help = run(['server', '--help']);
  assert.equal(help.status, 0);
  for (const opt of [
    '--host',
    '--port',
    '--data',
    'FERRY_HOST',
    'FERRY_PORT',
    'FERRY_DATA_DIR',
    'FERRY_ADMIN_USER',
    'FERRY_ADMIN_PASSWORD',
    'FERRY_DATABASE_URL',
  ]) {
    assert.ok(help.stdout.includes(opt), `help mentions ${opt}`);
  }
});

test('a config error names the bad setting and exits non-zero', () => {
  const bad = run(['server', '--port', 'eighty'], { FERRY_DATA_DIR: '/tmp/ferry-never' });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /FERRY_PORT/);
  const badEnv = run(['server'], { FERRY_LOG_LEVEL: 'loud', FERRY_DATA_DIR: '/tmp/ferry-never' });
  assert.notEqual(badEnv.status, 0);
  assert.match(badEnv.stderr, /FERRY_LOG_LEVEL/);
});

test('first start prints a generated admin password once; it logs in; a restart does not print it again', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-proc-'));
  try {
    const first = await startServer(dir);
    const pw = /password: (\S+)/.exec(first.output())?.[1];
    assert.ok(pw, 'password printed');
    const login = await fetch(`${first.url}/api/v1/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'admin', password: pw }),
    });
    assert.equal(login.status, 200);
    first.child.kill('SIGTERM');
    await new Promise((r) => first.child.once('exit', r));
    const second = await startServer(dir);
    assert.doesNotMatch(second.output(), /password:/);
    second.child.kill('SIGINT');
    assert.equal(await new Promise((r) => second.child.once('exit', r)), 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test(
  'the server process runs with its memory settings (V8 flags and malloc environment)',
  {
    skip: process.platform !== 'linux' && 'reads /proc',
  },
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ferry-proc-'));
    try {
      const server = await startServer(dir, { FERRY_ADMIN_PASSWORD: 'memory-settings-test' });
      // `ferry server` replaces its own process image: the same pid, now with the flags.
      const proc = `/proc/${server.child.pid}`;
      const argv = (await readFile(`${proc}/cmdline`, 'utf8')).split('\0');
      const env = (await readFile(`${proc}/environ`, 'utf8')).split('\0');
      for (const flag of ['--max-semi-space-size=4', '--heap-growing-percent=50'])
        assert.ok(argv.includes(flag), `${flag} in ${argv.join(' ')}`);
      for (const v of ['MALLOC_ARENA_MAX=2', 'MALLOC_MMAP_THRESHOLD_=65536'])
        assert.ok(env.includes(v), `${v} in the environment`);
      server.child.kill('SIGTERM');
      assert.equal(await new Promise((r) => server.child.once('exit', r)), 0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
);

test('SIGTERM lets an in-flight upload finish, then closes the database cleanly', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ferry-proc-'));
  try {
    const s = await startServer(dir, { FERRY_ADMIN_PASSWORD: 'admin-password-1' });
    const login = (await (
      await fetch(`${s.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'admin', password: 'admin-password-1' }),
      })
    ).json()) as { accessToken: string };
    // A slow upload: the body trickles in while the server is told to stop.
    let sent = 0;
    const body = new ReadableStream({
      async pull(c) {
        if (sent >= 10) return c.close();
        if (sent === 2) s.child.kill('SIGTERM');
        sent++;
        await new Promise((r) => setTimeout(r, 100));
        c.enqueue(new Uint8Array(100_000).fill(sent));
      },
    });
    const res = await fetch(`${s.url}/api/v1/files/upload?path=/in-flight.bin`, {
      method: 'POST',
      headers: { authorization: `Bearer ${login.accessToken}` },
      body,
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { size: number }).size, 1_000_000);
    assert.equal(await new Promise((r) => s.child.once('exit', r)), 0);
    // Closed cleanly: the WAL was checkpointed and the data is there.
    const db = new DatabaseSync(join(dir, 'ferry.db'));
    const row = db.prepare("SELECT size FROM files WHERE path = '/in-flight.bin'").get() as { size: number };
    db.close();
    assert.equal(row.size, 1_000_000);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("short commands keep V8's compiled code in the user's cache dir, the server does not; NODE_DISABLE_COMPILE_CACHE=1 turns it off", async () => {
  const home = await mkdtemp(join(tmpdir(), 'ferry-cache-'));
  const noCacheEnv = { NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
  try {
    const version = join(home, 'version');
    assert.equal(run(['--version'], { ...noCacheEnv, XDG_CACHE_HOME: version }).status, 0);
    const cache = join(version, 'ferry', 'compile-cache');
    assert.equal((await stat(cache)).mode & 0o777, 0o700);
    const files = (await readdir(cache, { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.ok(files.length > 0, 'ferry --version left compiled code behind');

    // The server runs for days: its memory matters more than its start-up.
    const served = join(home, 'served');
    const server = await startServer(join(home, 'data'), { ...noCacheEnv, XDG_CACHE_HOME: served });
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    await assert.rejects(stat(join(served, 'ferry')), { code: 'ENOENT' });

    const off = join(home, 'off');
    const r = run(['--version'], { ...noCacheEnv, XDG_CACHE_HOME: off, NODE_DISABLE_COMPILE_CACHE: '1' });
    assert.equal(r.status, 0);
    await assert.rejects(stat(join(off, 'ferry')), { code: 'ENOENT' });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
