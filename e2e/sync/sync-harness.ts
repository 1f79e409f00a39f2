// Helpers for the sync end-to-end tests: a real server (startTestServer, restartable on the same
// data dir and port), devices that each have their own config dir and sync folder, and `ferry`
// CLI processes (one-shot and daemons). Waiting is polling with a deadline, never a fixed sleep.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
// The command as shipped: the bundle when it is built and fresh, else the sources (bin/ferry.js).
const MAIN = join(REPO, 'packages', 'cli', 'bin', 'ferry.js');
const NODE = (() => {
  const [major] = process.versions.node.split('.').map(Number);
  if (major >= 24) return process.execPath;
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('node/package.json')), 'bin', 'node');
})();

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | false | null | undefined> | T | false | null | undefined,
  timeoutMs = 20_000,
  everyMs = 25,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const ADMIN = { user: 'admin', password: 'admin-password-1' };

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((res) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => res(port));
    });
  });
}

/** A real `ferry server` process, restartable on the same data dir and port. */
export class ServerHandle {
  proc: ChildProcess | null = null;
  dataDir = '';
  port = 0;
  url = '';
  log = '';

  async start(): Promise<void> {
    if (!this.dataDir) this.dataDir = await mkdtemp(join(tmpdir(), 'ferry-e2e-data-'));
    if (!this.port) this.port = await freePort();
    this.url = `http://127.0.0.1:${this.port}`;
    const env = {
      ...process.env,
      FERRY_ADMIN_PASSWORD: ADMIN.password,
      FERRY_LOG_LEVEL: 'warn',
      NODE_NO_WARNINGS: '1',
    };
    const p = spawn(NODE, [MAIN, 'server', '--port', String(this.port), '--data', this.dataDir], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = p;
    p.stdout.on('data', (d: Buffer) => (this.log += d.toString()));
    p.stderr.on('data', (d: Buffer) => (this.log += d.toString()));
    await waitFor(
      'server listening',
      async () => {
        if (p.exitCode !== null) throw new Error(`server exited: ${this.log}`);
        const r = await fetch(`${this.url}/health`).catch(() => null);
        return r?.ok;
      },
      60_000, // generous: a loaded CI machine can take many seconds to start Node
    );
  }

  #adminToken: string | undefined;

  /** GET of an API route as the admin (signed in once); the parsed JSON body. */
  async adminGet<T>(path: string): Promise<T> {
    if (!this.#adminToken) {
      const login = await fetch(`${this.url}/api/v1/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: ADMIN.user, password: ADMIN.password }),
      });
      this.#adminToken = ((await login.json()) as { accessToken: string }).accessToken;
    }
    const res = await fetch(`${this.url}${path}`, {
      headers: { authorization: `Bearer ${this.#adminToken}` },
    });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** The id of the admin's device named `name`. */
  async deviceId(name: string): Promise<string> {
    const { devices } = await this.adminGet<{ devices: { id: string; name: string }[] }>('/api/v1/devices');
    const d = devices.find((d) => d.name === name);
    if (!d) throw new Error(`no device named ${name}`);
    return d.id;
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const done = new Promise((r) => p.once('close', r));
    p.kill(signal);
    await done;
    this.proc = null;
  }

  async dispose(): Promise<void> {
    await this.stop('SIGKILL');
    if (this.dataDir) await rm(this.dataDir, { recursive: true, force: true });
  }
}

export class Device {
  readonly name: string;
  readonly home: string;
  readonly root: string;
  daemon: ChildProcess | null = null;
  daemonLog = '';

  constructor(name: string, home: string) {
    this.name = name;
    this.home = home;
    this.root = join(home, 'sync');
  }

  static async create(name: string): Promise<Device> {
    return new Device(name, await mkdtemp(join(tmpdir(), `ferry-dev-${name}-`)));
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, FERRY_CONFIG_DIR: join(this.home, 'config'), NODE_NO_WARNINGS: '1' };
  }

  /** Runs `ferry ARGS…` to completion. */
  cli(...args: string[]): Promise<CliResult> {
    return new Promise((res, rej) => {
      const p = spawn(NODE, [MAIN, ...args], { env: this.env(), cwd: this.home });
      let stdout = '';
      let stderr = '';
      p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      p.on('error', rej);
      p.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    });
  }

  async ok(...args: string[]): Promise<string> {
    const r = await this.cli(...args);
    if (r.code !== 0) throw new Error(`ferry ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  async setup(server: ServerHandle, user = ADMIN.user, password = ADMIN.password): Promise<void> {
    await this.ok('login', server.url, '--user', user, '--password', password, '--device', this.name);
    await this.ok('init', this.root);
  }

  /** Syncs until a pass reports "in sync" (other devices may still be committing). */
  async syncUntilClean(timeoutMs = 30_000): Promise<void> {
    await waitFor(
      `${this.name} in sync`,
      async () => (await this.cli('sync', this.root)).code === 0,
      timeoutMs,
      50,
    );
  }

  startDaemon(extra: string[] = []): void {
    this.daemonLog = '';
    this.daemon = spawn(NODE, [MAIN, 'daemon', this.root, '--rescan', '5', ...extra], {
      env: this.env(),
      cwd: this.home,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.daemon.stdout!.on('data', (d: Buffer) => (this.daemonLog += d.toString()));
    this.daemon.stderr!.on('data', (d: Buffer) => (this.daemonLog += d.toString()));
  }

  async stopDaemon(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const d = this.daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const done = new Promise((r) => d.once('close', r));
    d.kill(signal);
    await done;
    this.daemon = null;
  }

  async dispose(): Promise<void> {
    await this.stopDaemon('SIGKILL');
    await rm(this.home, { recursive: true, force: true });
  }
}

/**
 * path → sha256 of every file (and '/' suffix for folders), excluding .ferry. Names compare in NFC:
 * the engine keeps a device's own spelling on its disk (as Syncthing does) and syncs the NFC form.
 */
export async function treeOf(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (dir: string, rel: string) => {
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (rel === '' && name === '.ferry') continue;
      const abs = join(dir, name);
      const st = await stat(abs).catch(() => null);
      if (!st) continue;
      const key = `${rel}/${name.normalize('NFC')}`;
      if (st.isDirectory()) {
        out.set(`${key}/`, 'dir');
        await walk(abs, key);
      } else
        out.set(
          key,
          createHash('sha256')
            .update(await readFile(abs))
            .digest('hex'),
        );
    }
  };
  await walk(root, '');
  return out;
}

export function sameTree(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) if (b.get(k) !== v) return false;
  return true;
}

export async function converged(devices: Device[]): Promise<Map<string, string> | false> {
  const trees = await Promise.all(devices.map((d) => treeOf(d.root)));
  return trees.every((t) => sameTree(t, trees[0])) ? trees[0] : false;
}

export function sha(s: string | Uint8Array): string {
  return createHash('sha256').update(s).digest('hex');
}

export function hasRsync(): boolean {
  return spawnSync('rsync', ['--version']).status === 0;
}
