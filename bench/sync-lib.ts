// Helpers for bench/sync-bench.ts: `ferry` CLI devices (one config dir each), a byte-counting TCP
// proxy on loopback, and an rsync daemon that keeps its destination between pushes (for the delta
// references: rsync --stats bytes and time).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runTimed, type TimedRun } from './lib.ts';

// The command as shipped: the bundle when it is built and fresh, else the sources (bin/ferry.js).
const MAIN = join(ROOT, 'packages', 'cli', 'bin', 'ferry.js');

export type CliRun = TimedRun;

/** One `ferry` device identity: its own FERRY_CONFIG_DIR, logged in to one server URL. */
export class BenchDevice {
  readonly name: string;
  readonly configDir: string;
  daemons: ChildProcess[] = [];
  /** More environment for the processes this device starts (e.g. NODE_OPTIONS for a profile). */
  extraEnv: NodeJS.ProcessEnv = {};

  constructor(name: string, configDir: string) {
    this.name = name;
    this.configDir = configDir;
  }

  env(): NodeJS.ProcessEnv {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_')));
    return { ...clean, FERRY_CONFIG_DIR: this.configDir, NODE_NO_WARNINGS: '1', ...this.extraEnv };
  }

  /** Runs `ferry ARGS…` to completion. */
  cli(...args: string[]): Promise<CliRun> {
    return runTimed(process.execPath, [MAIN, ...args], this.env());
  }

  async ok(...args: string[]): Promise<CliRun> {
    const r = await this.cli(...args);
    if (r.code !== 0)
      throw new Error(`${this.name}: ferry ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r;
  }

  static async login(name: string, url: string, user: string, password: string): Promise<BenchDevice> {
    const d = new BenchDevice(name, await mkdtemp(join(tmpdir(), `ferry-bench-${name}-`)));
    await d.ok('login', url, '--user', user, '--password', password, '--device', name);
    return d;
  }

  /** `ferry daemon DIR` in the background; returns the process (its pid is the Node 24 process). */
  startDaemon(dir: string, log: (s: string) => void = () => undefined): ChildProcess {
    const p = spawn(
      process.execPath,
      [MAIN, 'daemon', dir, ...(process.env.DAEMON_VERBOSE ? [] : ['--quiet'])],
      {
        env: this.env(),
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    p.stdout.on('data', (d: Buffer) => log(d.toString()));
    p.stderr.on('data', (d: Buffer) => log(d.toString()));
    this.daemons.push(p);
    return p;
  }

  async dispose(): Promise<void> {
    await Promise.all(
      this.daemons.map(async (p) => {
        if (p.exitCode !== null || p.signalCode !== null) return;
        const done = new Promise((r) => p.once('close', r));
        p.kill('SIGTERM');
        const t = setTimeout(() => p.kill('SIGKILL'), 5000);
        await done;
        clearTimeout(t);
      }),
    );
    await rm(this.configDir, { recursive: true, force: true });
  }
}

/** A TCP proxy on 127.0.0.1 that counts every byte in each direction (HTTP headers included). */
export class CountingProxy {
  up = 0; // client → server
  down = 0; // server → client
  connections = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  url = '';

  private constructor(server: Server) {
    this.#server = server;
  }

  static async start(target: string): Promise<CountingProxy> {
    const { hostname, port } = new URL(target);
    const server = createServer();
    const proxy = new CountingProxy(server);
    server.on('connection', (c) => {
      proxy.connections++;
      const u = createConnection({ host: hostname, port: Number(port) });
      for (const s of [c, u]) {
        proxy.#sockets.add(s);
        s.setNoDelay(true);
        s.on('close', () => proxy.#sockets.delete(s));
      }
      c.on('data', (d: Buffer) => (proxy.up += d.length));
      u.on('data', (d: Buffer) => (proxy.down += d.length));
      c.pipe(u);
      u.pipe(c);
      c.on('error', () => u.destroy());
      u.on('error', () => c.destroy());
      c.on('close', () => u.destroy());
      u.on('close', () => c.destroy());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
    return proxy;
  }

  reset(): void {
    this.up = 0;
    this.down = 0;
    this.connections = 0;
  }

  get total(): number {
    return this.up + this.down;
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise((r) => this.#server.close(r));
  }
}

/** Creates a space named `name` as the server's admin. */
export async function createSpace(server: { url: string; token: string }, name: string): Promise<void> {
  const r = await fetch(`${server.url}/api/v1/spaces`, {
    method: 'POST',
    headers: { authorization: `Bearer ${server.token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  if (!r.ok) throw new Error(`create space ${name}: ${r.status} ${await r.text()}`);
}
