// Shared benchmark helpers: start `ferry server` as a child process, sample its RSS, run rsync
// over loopback as the reference, print tables, write JSON results.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';

export const ROOT = join(import.meta.dirname, '..');
const FERRY = join(ROOT, 'packages', 'cli', 'bin', 'ferry.js');

export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  dataDir: string;
  token: string;
  /** Peak resident set size so far (VmHWM), bytes. */
  peakRss(): Promise<number>;
  /** Resident set size now (VmRSS), bytes. */
  rss(): Promise<number>;
  /** CPU seconds the server has used so far. */
  cpuSeconds(): Promise<number>;
  stop(): Promise<void>;
}

export async function readRss(pid: number, field: 'VmHWM' | 'VmRSS' = 'VmHWM'): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]) * 1024;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export async function readCpuSeconds(pid: number): Promise<number> {
  return cpuOf(await readFile(`/proc/${pid}/stat`, 'utf8'));
}

/** utime + stime of a /proc stat line, in seconds (clock ticks, USER_HZ = 100). */
function cpuOf(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU seconds by thread kind (main, libuv thread pool, V8 workers…), from /proc/PID/task: which
 * part of a process's CPU its event loop spent. Threads are grouped by name (`comm`).
 */
export async function readThreadCpu(pid: number): Promise<Map<string, number>> {
  const byName = new Map<string, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8').catch(() => '');
    if (!stat) continue;
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    byName.set(name, (byName.get(name) ?? 0) + cpuOf(stat));
  }
  return byName;
}

/** Per-thread-kind CPU between two readThreadCpu readings, as "main 1.20 s, libuv-worker 0.40 s". */
export function threadCpuDelta(before: Map<string, number>, after: Map<string, number>): string {
  return [...after]
    .map(([name, s]) => [name, s - (before.get(name) ?? 0)] as const)
    .filter(([, s]) => s >= 0.01)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(2)} s`)
    .join(', ');
}

/** The 1-minute load average and the core count: a run on a busy machine says so in its results. */
export async function machineLoad(): Promise<{ load1: number; cores: number }> {
  const { availableParallelism, loadavg } = await import('node:os');
  return { load1: loadavg()[0], cores: availableParallelism() };
}

/**
 * Node flags for a bench's server from BENCH_SERVER_NODE_ARGS, placed before the script: also the
 * ones NODE_OPTIONS refuses (--trace-gc, V8 tuning). BENCH_SERVER_NODE_OPTIONS still goes through
 * NODE_OPTIONS.
 */
export function serverNodeArgs(): string[] {
  return process.env.BENCH_SERVER_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
}

export async function startChildServer(env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'ferry-bench-'));
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FERRY_')));
  const child = spawn(
    process.execPath,
    [...serverNodeArgs(), FERRY, 'server', '--port', '0', '--data', dataDir],
    {
      env: {
        ...clean,
        ...(process.env.BENCH_SERVER_NODE_OPTIONS
          ? { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS }
          : {}),
        FERRY_LOG_LEVEL: 'warn',
        FERRY_ADMIN_PASSWORD: 'bench-password',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      // BENCH_SERVER_LOG=FILE keeps the server's stdout (say, of --trace-gc in BENCH_SERVER_NODE_ARGS).
      if (process.env.BENCH_SERVER_LOG) appendFileSync(process.env.BENCH_SERVER_LOG, d);
      out += d;
      const m = /Ferry is listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (c) => reject(new Error(`server exited ${c}: ${out}`)));
  });
  const login = await fetch(`${url}/api/v1/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      username: 'admin',
      password: 'bench-password',
      device: { name: 'bench', kind: 'desktop' },
    }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  // The grandchild (Node 24) is the real server when the shim re-executes; find it.
  const pid = childPid(child.pid!);
  return {
    url,
    pid,
    child,
    dataDir,
    token: accessToken,
    peakRss: () => readRss(pid),
    rss: () => readRss(pid, 'VmRSS'),
    cpuSeconds: () => readCpuSeconds(pid),
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

function childPid(pid: number): number {
  const r = spawnSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' });
  const kid = Number(r.stdout.trim().split('\n')[0]);
  return kid > 0 ? kid : pid;
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/**
 * Copies `src/` to an rsync daemon on loopback; returns seconds, or null when rsync is missing.
 * `under`: where the daemon's copy goes (see RsyncDaemon.start).
 */
export async function rsyncLoopback(src: string, under?: string): Promise<number | null> {
  if (!RsyncDaemon.available()) return null;
  const daemon = await RsyncDaemon.start({ under });
  try {
    return (await daemon.push(`${src}/`, true)).seconds;
  } finally {
    await daemon.stop();
  }
}

export interface TimedRun {
  code: number;
  stdout: string;
  stderr: string;
  /** From spawn until the process has exited and its output is read. */
  seconds: number;
}

/** Runs a command to completion, collecting its output. */
export function runTimed(cmd: string, args: string[], env?: NodeJS.ProcessEnv): Promise<TimedRun> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('error', reject);
    p.on('close', (code) =>
      resolve({ code: code ?? -1, stdout, stderr, seconds: (performance.now() - t0) / 1000 }),
    );
  });
}

export interface RsyncRun {
  seconds: number;
  sent: number;
  received: number;
}

/** An rsync daemon on loopback whose module `dest` persists between pushes (delta transfers). */
export class RsyncDaemon {
  readonly #dir: string;
  readonly #port: number;
  readonly #proc: ChildProcess;
  readonly #removeOnStop: boolean;

  private constructor(dir: string, port: number, proc: ChildProcess, removeOnStop: boolean) {
    this.#dir = dir;
    this.#port = port;
    this.#proc = proc;
    this.#removeOnStop = removeOnStop;
  }

  static available(): boolean {
    return spawnSync('rsync', ['--version']).status === 0;
  }

  /**
   * `under`: a folder the caller removes when it is done; the copy stays there after stop(). A bench
   * that runs more workloads afterwards passes it: deleting thousands of files in the middle of a run
   * slows the file creations that follow for minutes on these machines (ext4 will not reuse a freshly
   * freed inode and scans past each one: 16–33 µs → 0.75–1.1 ms per new file measured), which would
   * charge the next workload for the reference's cleanup.
   */
  static async start(o: { under?: string } = {}): Promise<RsyncDaemon> {
    const dir = await mkdtemp(join(o.under ?? tmpdir(), 'ferry-bench-rsyncd-'));
    await mkdir(join(dir, 'dest'));
    const port = await freePort();
    const uid = process.getuid?.() ?? 0;
    const gid = process.getgid?.() ?? 0;
    await writeFile(
      join(dir, 'rsyncd.conf'),
      `use chroot = no\nuid = ${uid}\ngid = ${gid}\npid file = ${dir}/pid\n[dest]\n  path = ${dir}/dest\n  read only = no\n`,
    );
    const proc = spawn(
      'rsync',
      [
        '--daemon',
        '--no-detach',
        '--address',
        '127.0.0.1',
        '--port',
        String(port),
        '--config',
        join(dir, 'rsyncd.conf'),
      ],
      { stdio: 'ignore' },
    );
    for (let i = 0; i < 100; i++) {
      if (spawnSync('rsync', [`rsync://127.0.0.1:${port}/`]).status === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    return new RsyncDaemon(dir, port, proc, o.under === undefined);
  }

  /** `rsync -a --stats SRC rsync://…/dest/` (delta transfer unless `wholeFile`). */
  async push(src: string, wholeFile = false): Promise<RsyncRun> {
    const r = await runTimed('rsync', [
      '-a',
      '--stats',
      wholeFile ? '--whole-file' : '--no-whole-file',
      src,
      `rsync://127.0.0.1:${this.#port}/dest/`,
    ]);
    if (r.code !== 0) throw new Error(`rsync exited ${r.code}: ${r.stdout}${r.stderr}`);
    const num = (label: string) =>
      Number((new RegExp(`${label}: ([\\d,.]+)`).exec(r.stdout)?.[1] ?? 'NaN').replace(/[,.]/g, ''));
    return { seconds: r.seconds, sent: num('Total bytes sent'), received: num('Total bytes received') };
  }

  async stop(): Promise<void> {
    const done = new Promise((r) => this.#proc.once('close', r));
    this.#proc.kill();
    await done;
    if (this.#removeOnStop) await rm(this.#dir, { recursive: true, force: true });
  }
}

export function printTable(title: string, rows: (string | number)[][]): void {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
  console.log(`\n${title}`);
  for (const [n, r] of rows.entries()) {
    console.log('  ' + r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
    if (n === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  }
}

export async function writeResult(name: string, data: unknown): Promise<string> {
  const dir = join(ROOT, 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  await writeFile(
    file,
    JSON.stringify({ at: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2) +
      '\n',
  );
  return file;
}

export const fmt = {
  mbs: (bytes: number, s: number) => `${(bytes / s / 1e6).toFixed(0)} MB/s`,
  s: (s: number) => `${s.toFixed(2)} s`,
  mib: (b: number) => `${(b / 1024 / 1024).toFixed(0)} MiB`,
};
