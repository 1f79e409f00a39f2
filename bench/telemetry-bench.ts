// Fleet telemetry benchmark: seeds DEVICES devices and STORED sync events into a fresh data dir,
// starts the real server as a child process (default config: SQLite, durable commits), then
//   1. ingests at a fixed rate (open loop, latency measured from the intended send time) from
//      DEVICES simulated devices, one event per request, over keep-alive connections, after a
//      5-second warm-up at the same rate (the first seconds after a start run slower: JIT, new
//      connections; the warm-up's figures are printed too);
//   2. finds the saturation throughput (closed loop), one event per request and in batches of 100;
//   3. times GET /api/v1/devices/repeated-failures over the stored events;
// sampling the server's RSS throughout. The load comes from a separate generator process (raw
// keep-alive sockets), and the same loads run first against a trivial Fastify server: the ceiling of
// this machine at this moment, since the machine is shared. Prints a table and writes
// bench/results/telemetry.json (bench/lib.ts helpers).
//
//   npm exec -- node bench/telemetry-bench.ts [--devices 100000] [--stored 10000000] [--rate 10000] [--seconds 20]
//     [--from bundle|sources] [--seed-cache DIR [--seed-only]]

import http from 'node:http';
import net from 'node:net';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openMetaStore } from '../packages/server/src/store/meta/sql-meta-store.ts';
import { hashPassword } from '../packages/server/src/auth/passwords.ts';
import { DatabaseSync } from 'node:sqlite';
import { ROOT, printTable, readCpuSeconds, readRss, serverNodeArgs, writeResult } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '100000' },
    stored: { type: 'string', default: '10000000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    generator: { type: 'string' },
    // Seeds into this dir once and reuses it on later runs (events ingested by a run stay).
    'seed-cache': { type: 'string' },
    // Only seeds --seed-cache and exits: copy the dir for each run to compare runs on the same data.
    'seed-only': { type: 'boolean', default: false },
    // What `ferry server` runs: the bundle as shipped (built first, scripts/build-cli.ts) or the
    // TypeScript sources (every thread then also loads Node's type-stripping compiler: more memory).
    from: { type: 'string', default: 'bundle' },
  },
});
const DEVICES = Number(args.devices);
const STORED = Number(args.stored);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ADMIN = { username: 'admin', password: 'bench-admin-password' };
let INGEST_TOKEN = process.env.BENCH_INGEST_TOKEN ?? 'fit_bench-' + randomUUID();
const DAY = 86_400_000;
const MAX_BACKLOG = 5000;
const WARMUP_SECONDS = 5;

const log = (s: string) => process.stderr.write(`[telemetry-bench] ${s}\n`);
const pct = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : NaN;

/**
 * Seeds the data dir. Users, the ingest token and the schema go through the store; the devices,
 * the STORED events and each device's sync state are bulk-inserted with direct SQL (a recursive
 * CTE generates the events inside SQLite, the event indexes are rebuilt once afterwards, and the
 * per-device state is computed here from the same formula), which takes seconds instead of the
 * minutes that 10 million events through the ingest path would.
 */
async function seed(dataDir: string): Promise<string[]> {
  const file = join(dataDir, 'ferry.db');
  const meta = await openMetaStore(file, { durable: false });
  const admin = await meta.users.create({
    id: randomUUID(),
    username: ADMIN.username,
    passwordHash: await hashPassword(ADMIN.password),
    role: 'admin',
  });
  await meta.spaces.create({ id: randomUUID(), name: 'default', ownerId: admin.id, isDefault: true });
  await meta.telemetry.createIngestToken({
    id: randomUUID(),
    name: 'bench',
    tokenHash: createHash('sha256').update(INGEST_TOKEN).digest('hex'),
    createdBy: admin.id,
  });
  await meta.close();

  const started = performance.now();
  const ids = Array.from({ length: DEVICES }, () => randomUUID());
  const now = Date.now();
  // Per device P events evenly spaced over the last 30 days. Device k fails event n when
  // n >= P - streak(k) or (7n + k) % 23 == 0, where one device in 50 ends with a streak of 3..9
  // failures: repeated-failures has ~1.7% of the fleet to list.
  const P = Math.max(1, Math.floor(STORED / DEVICES));
  const base = now - 30 * DAY - 3600_000;
  const step = Math.floor((30 * DAY) / P);
  const streakOf = (k: number) => (k % 50 === 0 ? 3 + (k % 7) : 0);
  const failed = (k: number, n: number) => n >= P - streakOf(k) || (n * 7 + k) % 23 === 0;
  // Events are stored in time order, the fleet's reports interleaved as they would arrive: event n
  // of device k has id n * DEVICES + k + 1, and the device's previous event (its chain) is DEVICES before.
  const eventId = (k: number, n: number) => n * DEVICES + k + 1;

  const db = new DatabaseSync(file);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF; PRAGMA cache_size = -262144');
  db.exec('BEGIN');
  const dev = db.prepare(
    "INSERT INTO devices (id, user_id, name, kind, created_at, last_seen_at, consecutive_failures) VALUES (?, ?, ?, 'other', ?, ?, ?)",
  );
  const state = db.prepare(
    `INSERT INTO device_sync_state (dev_no, device_id, last_at, last_status, last_files, last_errors, last_speed,
       last_duration_ms, last_error_message, last_success_at, last_failure_at, last_failure_message,
       consecutive_failures, events, ok_events, speed_sum, speed_count, duration_sum, duration_count,
       bytes_up, bytes_down, files_total, last_event_id)
     VALUES (?, ?, ?, ?, 10, ?, ?, 1500, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  for (let k = 0; k < DEVICES; k++) {
    let ok = 0;
    let streak = 0;
    let speedSum = 0;
    let lastOk: number | null = null;
    let lastFail: number | null = null;
    for (let n = 0; n < P; n++) {
      speedSum += 20 + (n % 30);
      if (failed(k, n)) {
        streak++;
        lastFail = base + n * step;
      } else {
        ok++;
        streak = 0;
        lastOk = base + n * step;
      }
    }
    const lastAt = base + (P - 1) * step;
    const lastFailed = failed(k, P - 1);
    dev.run(ids[k], admin.id, `sensor-${k}`, now - 31 * DAY, lastAt, streak);
    state.run(
      k + 1,
      ids[k],
      lastAt,
      lastFailed ? 'failed' : 'ok',
      lastFailed ? 2 : 0,
      20 + ((P - 1) % 30),
      lastFailed ? 'connection reset' : null,
      lastOk,
      lastFail,
      lastFail === null ? null : 'connection reset',
      streak,
      P,
      ok,
      speedSum,
      P,
      1500 * P,
      P,
      4096 * P,
      8192 * P,
      10 * P,
      eventId(k, P - 1),
    );
  }
  db.exec('COMMIT');
  // Events: generated inside SQLite, device by device, with the event indexes rebuilt afterwards.
  const indexes = db
    .prepare(
      "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sync_events' AND sql IS NOT NULL",
    )
    .all() as { name: string; sql: string }[];
  for (const ix of indexes) db.exec(`DROP INDEX ${ix.name}`);
  const fail = `(n >= ${P} - CASE WHEN k % 50 = 0 THEN 3 + k % 7 ELSE 0 END OR (n * 7 + k) % 23 = 0)`;
  db.exec(`WITH RECURSIVE
      d(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < ${DEVICES - 1}),
      e(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM e WHERE n < ${P - 1})
    INSERT INTO sync_events (id, prev_id, dev_no, at, received_at, status, files, errors, speed, duration_ms, bytes_up, bytes_down, error_message)
    SELECT n * ${DEVICES} + k + 1, CASE WHEN n = 0 THEN NULL ELSE (n - 1) * ${DEVICES} + k + 1 END, k + 1, ${base} + n * ${step}, ${base} + n * ${step}, CASE WHEN ${fail} THEN 'failed' ELSE 'ok' END, 10,
      CASE WHEN ${fail} THEN 2 ELSE 0 END, 20 + n % 30, 1500, 4096, 8192,
      CASE WHEN ${fail} THEN 'connection reset' ELSE NULL END
    FROM e CROSS JOIN d ORDER BY n, k`);
  log(
    `inserted ${(DEVICES * P).toLocaleString()} events in ${((performance.now() - started) / 1000).toFixed(1)} s; indexing`,
  );
  for (const ix of indexes) db.exec(ix.sql);
  db.exec('PRAGMA wal_checkpoint(TRUNCATE)');
  db.close();
  log(
    `seeded ${DEVICES.toLocaleString()} devices and ${(DEVICES * P).toLocaleString()} events in ${((performance.now() - started) / 1000).toFixed(1)} s (direct SQL bulk insert)`,
  );
  return ids;
}

function startServer(dataDir: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  // `ferry server` itself, so the figures are those of the server as shipped (its V8 flags included).
  const main = join(
    ROOT,
    args.from === 'sources' ? 'packages/cli/src/main.ts' : 'packages/cli/dist/ferry.mjs',
  );
  const child = spawn(
    process.execPath,
    [...serverNodeArgs(), main, 'server', '--port', '0', '--data', dataDir],
    {
      env: {
        ...process.env,
        // BENCH_SERVER_NODE_OPTIONS: flags for the server's Node (e.g. --max-old-space-size=128).
        NODE_OPTIONS: [
          process.env.BENCH_SERVER_NODE_OPTIONS ?? '',
          process.env.BENCH_PROF ? `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROF}` : '',
        ].join(' '),
        FERRY_HOST: '127.0.0.1',
        FERRY_LOG_LEVEL: 'warn',
        FERRY_ADMIN_PASSWORD: ADMIN.password,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  return childUrl(child);
}

/** The process's RSS now in MB; NaN once it is gone. */
const rssMb = (pid: number): Promise<number> =>
  readRss(pid, 'VmRSS').then(
    (b) => b / 2 ** 20,
    () => NaN,
  );

/** Server CPU seconds per 100,000 accepted events: less sensitive to a shared machine than events/s. */
const cpuPer100k = (r: LoadResult) =>
  r.serverCpu === undefined || r.events === 0 ? NaN : ((r.serverCpu * r.seconds) / r.events) * 100_000;

/** The server's V8 heap (used and total, MB) from its own /metrics. */
async function heapMb(
  url: string,
  token: string,
): Promise<{ used: number; total: number; writerTotal: number }> {
  const { text } = await request(url, 'GET', '/metrics', token);
  const metric = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1]) / 2 ** 20;
  return {
    used: metric('ferry_nodejs_heap_size_used_bytes'),
    total: metric('ferry_nodejs_heap_size_total_bytes'),
    writerTotal: metric('ferry_telemetry_writer_heap_bytes'),
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

/** Control requests (login, queries) from this process; the load comes from the generator process. */
function request(
  url: string,
  method: string,
  path: string,
  token: string,
  body?: string,
): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const req = http.request(
      url + path,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${token}`,
          ...(body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => ok({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', fail);
    req.end(body);
  });
}

interface LoadResult {
  target: string;
  mode: string;
  seconds: number;
  requests: number;
  events: number;
  eventsPerSecond: number;
  status: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  serverCpu?: number;
  generatorCpu?: number;
  /** The server's highest RSS sampled during this run (MB). */
  peakRssMb?: number;
}

interface LoadJob {
  url: string;
  idsFile: string;
  kind: 'open' | 'closed';
  rate: number;
  conns: number;
  perRequest: number;
  seconds: number;
}

// ---- The load generator: a separate process (`--generator`, job as JSON on argv), so that its CPU
// is measured apart from the server's and the OS can give each its own core. It speaks HTTP/1.1 over
// raw keep-alive sockets, one request at a time per socket (requests are preformatted strings;
// responses are parsed just enough for the status and the Content-Length): several times cheaper
// per request than node:http's client, so the generator is not what limits the measurement.

class Conn {
  readonly #sock: net.Socket;
  readonly #pending: { t: number; done: (status: number, t: number) => void }[] = [];
  #buf = '';
  constructor(host: string, port: number) {
    this.#sock = net.connect({ host, port, noDelay: true });
    this.#sock.setEncoding('latin1');
    this.#sock.on('data', (d: string) => this.#read(d));
    this.#sock.on('error', (e) => {
      for (const p of this.#pending.splice(0)) p.done(-1, p.t);
      log(`generator socket error: ${e.message}`);
    });
  }
  get outstanding(): number {
    return this.#pending.length;
  }
  send(req: string, t: number, done: (status: number, t: number) => void): void {
    this.#pending.push({ t, done });
    this.#sock.write(req, 'latin1');
  }
  #read(d: string): void {
    this.#buf += d;
    for (;;) {
      const end = this.#buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = this.#buf.slice(0, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (!m) throw new Error(`generator: response without Content-Length: ${head}`);
      const total = end + 4 + Number(m[1]);
      if (this.#buf.length < total) return;
      const status = Number(head.slice(9, 12));
      this.#buf = this.#buf.slice(total);
      const p = this.#pending.shift()!;
      p.done(status, p.t);
    }
  }
  close(): void {
    this.#sock.destroy();
  }
}

async function generate(job: LoadJob): Promise<LoadResult> {
  const ids = JSON.parse(await readFile(job.idsFile, 'utf8')) as string[];
  const { hostname, port } = new URL(job.url);
  const conns = Array.from({ length: job.conns }, () => new Conn(hostname, Number(port)));
  const head = `POST /api/v1/sync-events HTTP/1.1\r\nHost: ${hostname}:${port}\r\nAuthorization: Bearer ${INGEST_TOKEN}\r\nContent-Type: application/json\r\nContent-Length: `;
  const reqFor = () => {
    const batch = Array.from({ length: job.perRequest }, () =>
      eventFor(ids[(Math.random() * ids.length) | 0]),
    );
    const body = JSON.stringify(job.perRequest === 1 ? batch[0] : batch);
    return `${head}${body.length}\r\n\r\n${body}`;
  };
  const lat: number[] = [];
  const status: Record<string, number> = {};
  let requests = 0;
  let events = 0;
  let outstanding = 0;
  const start = performance.now();
  const deadline = start + job.seconds * 1000;
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  const count = (s: number, t: number) => {
    outstanding--;
    lat.push(performance.now() - t);
    status[s] = (status[s] ?? 0) + 1;
    if (s === 202) events += job.perRequest;
    if (outstanding === 0 && performance.now() >= deadline) finish();
  };
  if (job.kind === 'closed') {
    // Each connection sends its next request when the last one is answered (after 50 ms on a 503).
    const next = (c: Conn) => {
      if (performance.now() >= deadline) {
        if (outstanding === 0) finish();
        return;
      }
      outstanding++;
      requests++;
      c.send(reqFor(), performance.now(), (s, t) => {
        count(s, t);
        if (s === 503) setTimeout(() => next(c), 50);
        else next(c);
      });
    };
    for (const c of conns) next(c);
  } else {
    // Open loop: sends at `rate` whatever the answers; latency counts from the intended send time.
    // A server far below the rate would grow the backlog without end: beyond MAX_BACKLOG
    // outstanding requests a send is skipped and counted as such.
    // Like real devices (and http.Agent), one request at a time per connection: a send that finds
    // every connection busy waits on the client, not in the server's memory.
    let sent = 0;
    const idle = [...conns];
    const waiting: number[] = [];
    const pump = () => {
      while (idle.length > 0 && waiting.length > 0) {
        const c = idle.pop()!;
        c.send(reqFor(), waiting.shift()!, (s, t) => {
          idle.push(c);
          count(s, t);
          pump();
        });
      }
    };
    await new Promise<void>((done) => {
      const tick = () => {
        const now = performance.now();
        const due = Math.floor(((Math.min(now, deadline) - start) / 1000) * job.rate);
        for (; sent < due; sent++) {
          if (outstanding >= MAX_BACKLOG) {
            status.skipped = (status.skipped ?? 0) + 1;
            continue;
          }
          outstanding++;
          requests++;
          waiting.push(start + (sent / job.rate) * 1000);
          pump();
        }
        if (now >= deadline) done();
        else setTimeout(tick, 1);
      };
      tick();
    });
    if (outstanding === 0) finish();
  }
  await finished;
  const elapsed = (performance.now() - start) / 1000;
  for (const c of conns) c.close();
  lat.sort((a, b) => a - b);
  return {
    target: '',
    mode:
      job.kind === 'open'
        ? `open loop ${job.rate}/s, ${job.perRequest} event/request`
        : `closed loop, ${job.conns} connections, ${job.perRequest} event(s)/request`,
    seconds: elapsed,
    requests,
    events,
    eventsPerSecond: events / elapsed,
    status,
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    maxMs: lat.at(-1) ?? NaN,
  };
}

function eventFor(deviceId: string): object {
  const failed = Math.random() < 0.1;
  return {
    device_id: deviceId,
    timestamp: Date.now() - 1000,
    total_files_synced: 5,
    total_errors: failed ? 1 : 0,
    internet_speed: 35.5,
    duration_ms: 900,
    bytes_up: 2048,
    bytes_down: 1024,
  };
}

/** Runs one load in a generator process; adds the CPU share (cores) of the server and generator. */
async function load(target: string, pid: number, job: LoadJob): Promise<LoadResult> {
  const child = spawn(process.execPath, [import.meta.filename, '--generator', JSON.stringify(job)], {
    env: { ...process.env, NODE_OPTIONS: '', BENCH_INGEST_TOKEN: INGEST_TOKEN },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  // The generator's Node is the child (npm's node shim may exec; /proc of the child either way).
  const s0 = await readCpuSeconds(pid);
  let g = 0;
  let peakRss = 0;
  const sample = setInterval(() => {
    void readCpuSeconds(child.pid!).then(
      (c) => (g = c),
      () => {},
    );
    void rssMb(pid).then((m) => (peakRss = Math.max(peakRss, m || 0)));
  }, 100);
  const code = await new Promise<number | null>((ok) => child.once('exit', ok));
  clearInterval(sample);
  if (code !== 0) throw new Error(`generator exited with ${code}`);
  const r = JSON.parse(out) as LoadResult;
  return {
    ...r,
    target,
    serverCpu: ((await readCpuSeconds(pid)) - s0) / r.seconds,
    generatorCpu: g / r.seconds,
    peakRssMb: peakRss,
  };
}

/** The reference ceiling: a trivial Fastify server answering the same POST with 202, nothing else. */
async function startHello(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const code = `import Fastify from 'fastify';
const app = Fastify({ logger: false });
app.post('/api/v1/sync-events', async (request, reply) => reply.status(202).send({ accepted: Array.isArray(request.body) ? request.body.length : 1 }));
await app.listen({ port: 0, host: '127.0.0.1' });
console.log('listening on http://127.0.0.1:' + app.server.address().port);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: join(ROOT, 'packages/server'),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return childUrl(child);
}

function childUrl(child: ChildProcess): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  return new Promise((ok, fail) => {
    let out = '';
    const onData = (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (!m) return;
      child.stdout!.off('data', onData);
      // The server logs warnings and errors only (FERRY_LOG_LEVEL=warn): shown, not swallowed.
      child.stdout!.pipe(process.stderr);
      ok({
        url: m[1],
        pid: child.pid!,
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done();
            child.once('exit', () => done());
            child.kill('SIGTERM');
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (c) => fail(new Error(`server exited with ${c}`)));
  });
}

async function main() {
  const cache = args['seed-cache'];
  const dataDir = cache ?? (await mkdtemp(join(tmpdir(), 'ferry-telemetry-bench-')));
  log(
    `data dir ${dataDir}; ${cpus().length} CPUs; load average ${loadavg()[0].toFixed(1)}; ${DEVICES} devices, ${STORED} stored events`,
  );
  const seeded = cache
    ? await readFile(join(cache, 'seed.json'), 'utf8').then(
        (t) => JSON.parse(t) as { ids: string[]; token: string; devices: number; stored: number },
        () => undefined,
      )
    : undefined;
  let ids: string[];
  if (seeded && seeded.devices === DEVICES && seeded.stored === STORED) {
    ({ ids, token: INGEST_TOKEN } = seeded);
    log(`reusing the seeded data dir ${cache}`);
  } else {
    if (cache) await mkdir(cache, { recursive: true });
    ids = await seed(dataDir);
    if (cache)
      await writeFile(
        join(cache, 'seed.json'),
        JSON.stringify({ ids, token: INGEST_TOKEN, devices: DEVICES, stored: STORED }),
      );
  }
  if (args['seed-only']) return;
  if (args.from !== 'sources' && args.from !== 'bundle') throw new Error('--from is bundle or sources');
  if (args.from === 'bundle') {
    log('building the bundle (scripts/build-cli.ts)');
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build-cli.ts')], { stdio: 'inherit' });
    if (built.status !== 0) throw new Error('building the bundle failed');
  }
  const idsFile = join(dataDir, 'device-ids.json');
  await writeFile(idsFile, JSON.stringify(ids));
  const jobs = {
    open: (url: string, rate = RATE, seconds = SECONDS): LoadJob => ({
      url,
      idsFile,
      kind: 'open',
      rate,
      conns: 256,
      perRequest: 1,
      seconds,
    }),
    closed: (url: string, perRequest: number, conns: number): LoadJob => ({
      url,
      idsFile,
      kind: 'closed',
      rate: 0,
      conns,
      perRequest,
      seconds: 10,
    }),
  };
  const runs: LoadResult[] = [];
  // The first seconds after a start are slower (JIT, new connections): reported, not measured.
  const warmUp = async (target: string, pid: number, url: string) => {
    const r = await load(target, pid, jobs.open(url, RATE, WARMUP_SECONDS));
    return { ...r, mode: `warm-up, ${r.mode}` };
  };

  // The ceiling on this machine right now: the same generator against a trivial Fastify server.
  const hello = await startHello();
  try {
    log(`hello-world reference at ${hello.url}`);
    runs.push(await warmUp('hello-world', hello.pid, hello.url));
    runs.push(await load('hello-world', hello.pid, jobs.open(hello.url)));
    runs.push(await load('hello-world', hello.pid, jobs.closed(hello.url, 1, 64)));
  } finally {
    await hello.stop();
  }

  const server = await startServer(dataDir);
  try {
    const login = await request(server.url, 'POST', '/api/v1/auth/login', '', JSON.stringify(ADMIN));
    const adminToken = (JSON.parse(login.text) as { accessToken: string }).accessToken;
    const idleRss = await rssMb(server.pid);
    const idleHeap = await heapMb(server.url, adminToken);
    log(`server up at ${server.url}, RSS ${idleRss.toFixed(0)} MB; open loop at ${RATE}/s for ${SECONDS}s`);
    runs.push(await warmUp('ferry', server.pid, server.url));
    runs.push(await load('ferry', server.pid, jobs.open(server.url)));
    log('closed loop, 1 event/request');
    runs.push(await load('ferry', server.pid, jobs.closed(server.url, 1, 64)));
    log('closed loop, 100 events/request');
    runs.push(await load('ferry', server.pid, jobs.closed(server.url, 100, 8)));
    const ingestHeap = await heapMb(server.url, adminToken);

    // repeated-failures over the stored events, idle and while ingest runs at half the target rate.
    const timeQuery = async (n: number) => {
      const t: number[] = [];
      let count = 0;
      for (let i = 0; i < n; i++) {
        const s = performance.now();
        const r = await request(server.url, 'GET', '/api/v1/devices/repeated-failures?limit=100', adminToken);
        t.push(performance.now() - s);
        if (r.status !== 200) throw new Error(`repeated-failures: ${r.status} ${r.text}`);
        count = (JSON.parse(r.text) as { devices: unknown[] }).devices.length;
      }
      t.sort((a, b) => a - b);
      return { p50Ms: pct(t, 50), p99Ms: pct(t, 99), maxMs: t.at(-1)!, listed: count };
    };
    const rfIdle = await timeQuery(200);
    const background = load('ferry', server.pid, jobs.open(server.url, RATE / 2, 8));
    await new Promise((r) => setTimeout(r, 1500));
    const rfLoaded = await timeQuery(100);
    runs.push(await background);
    const ingestHwm = (await readRss(server.pid, 'VmHWM')) / 2 ** 20;
    const measured = runs.filter((r) => !r.mode.startsWith('warm-up'));
    const ferryRuns = runs.filter((r) => r.target === 'ferry');
    const stored = STORED + ferryRuns.reduce((s, r) => s + r.events, 0);
    const [helloOpen, helloClosed] = measured;
    const [ferryOpen, ferryClosed] = measured.filter((r) => r.target === 'ferry');
    const ferryWarmUp = ferryRuns[0];
    const targetLoadRss = Math.max(ferryWarmUp.peakRssMb ?? NaN, ferryOpen.peakRssMb ?? NaN);
    const ingestRss = Math.max(...ferryRuns.map((r) => r.peakRssMb ?? NaN));

    const results = {
      loadAverage: loadavg(),
      seedMethod: 'direct SQL bulk insert (recursive CTE), not the ingest path',
      serverFrom: args.from,
      generator:
        'separate process, raw HTTP/1.1 keep-alive sockets, one request at a time each (256 in the open loop)',
      cpus: cpus().length,
      devices: DEVICES,
      storedEvents: stored,
      ingest: runs,
      vsHelloWorld: {
        openLoop: ferryOpen.eventsPerSecond / helloOpen.eventsPerSecond,
        closedLoop: ferryClosed.eventsPerSecond / helloClosed.eventsPerSecond,
      },
      repeatedFailures: { idle: rfIdle, underIngest: rfLoaded },
      serverRssMb: {
        idle: idleRss,
        peakAtTargetRate: targetLoadRss,
        peakDuringIngest: ingestRss,
        hwmAfterIngest: ingestHwm,
      },
      serverHeapMb: { idle: idleHeap, afterIngest: ingestHeap },
      targets: { eventsPerSecond: 10_000, p99Ms: 50, repeatedFailuresMs: 50, rssMb: 200 },
    };
    const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
    console.log(
      `\nFerry telemetry bench — ${DEVICES.toLocaleString()} devices, ${stored.toLocaleString()} stored events, server from the ${args.from}, ${cpus().length} CPUs, load average ${loadavg()
        .map((l) => l.toFixed(1))
        .join(' ')}, ${process.version}`,
    );
    printTable('Ingest over HTTP keep-alive (POST /api/v1/sync-events, fleet ingest token)', [
      [
        'server',
        'run',
        'events/s',
        'p50 ms',
        'p99 ms',
        'max ms',
        'server CPU',
        'CPU s / 100k ev',
        'generator CPU',
        'peak RSS MB',
        'statuses',
      ],
      ...runs.map((r) => [
        r.target,
        r.mode,
        Math.round(r.eventsPerSecond),
        f(r.p50Ms),
        f(r.p99Ms),
        f(r.maxMs),
        f(r.serverCpu ?? NaN, 2),
        f(cpuPer100k(r), 1),
        f(r.generatorCpu ?? NaN, 2),
        f(r.peakRssMb ?? NaN, 0),
        JSON.stringify(r.status),
      ]),
    ]);
    printTable('Targets', [
      ['measure', 'value', 'target'],
      [
        'ingest events/s, 1 event/request: open loop (accepted of sent); closed-loop capacity',
        `${Math.round(ferryOpen.eventsPerSecond)} (${ferryOpen.status['202'] ?? 0} of ${ferryOpen.requests}); ${Math.round(ferryClosed.eventsPerSecond)}`,
        '>= 10000',
      ],
      [
        `ingest p99 (open loop; in the ${WARMUP_SECONDS} s warm-up before it)`,
        `${f(ferryOpen.p99Ms)} ms (${f(ferryWarmUp.p99Ms)} ms)`,
        '<= 50 ms',
      ],
      [
        'ingest vs hello-world (open / closed loop)',
        `${f(results.vsHelloWorld.openLoop * 100, 0)}% / ${f(results.vsHelloWorld.closedLoop * 100, 0)}%`,
        '(ceiling on this machine now)',
      ],
      [
        `repeated-failures p50 / p99, idle (${rfIdle.listed} listed)`,
        `${f(rfIdle.p50Ms, 2)} / ${f(rfIdle.p99Ms, 2)} ms`,
        '<= 50 ms',
      ],
      [
        `repeated-failures p50 / p99, under ${RATE / 2}/s ingest`,
        `${f(rfLoaded.p50Ms, 2)} / ${f(rfLoaded.p99Ms, 2)} ms`,
        '<= 50 ms',
      ],
      [
        `server RSS idle / peak at ${RATE}/s (warm-up and open loop)`,
        `${f(idleRss, 0)} / ${f(targetLoadRss, 0)} MB`,
        '<= 200 MB',
      ],
      [
        'server RSS peak over every ingest run, saturation included (sampled; VmHWM)',
        `${f(ingestRss, 0)} MB; ${f(ingestHwm, 0)} MB`,
        '',
      ],
      [
        'server V8 heap used / total, idle; after ingest (writer thread: total)',
        `${f(idleHeap.used, 0)} / ${f(idleHeap.total, 0)} MB; ${f(ingestHeap.used, 0)} / ${f(ingestHeap.total, 0)} MB (${f(ingestHeap.writerTotal, 0)} MB)`,
        '',
      ],
    ]);
    console.log(`\nwrote ${await writeResult('telemetry', results)}`);
  } finally {
    agent.destroy();
    await server.stop();
    if (!args.keep && !cache) await rm(dataDir, { recursive: true, force: true });
  }
}

if (args.generator)
  process.stdout.write(JSON.stringify(await generate(JSON.parse(args.generator) as LoadJob)));
else await main();
