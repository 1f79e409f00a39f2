// Fleet telemetry benchmark: seeds DEVICES devices and STORED sync events into a fresh data dir,
// starts the real server as a child process (default config: SQLite, durable commits), then
//   1. ingests at a fixed rate (open loop, latency measured from the intended send time) from
//      DEVICES simulated devices, one event per request, over keep-alive connections;
//   2. finds the saturation throughput (closed loop), one event per request and in batches of 100;
//   3. times GET /api/v1/devices/repeated-failures over the stored events;
// sampling the server's RSS throughout. Prints a table and writes bench/results/telemetry.json (bench/lib.ts helpers).
//
//   npm exec -- node bench/telemetry-bench.ts [--devices 100000] [--stored 10000000] [--rate 10000] [--seconds 20]

import http from 'node:http';
import { spawn } from 'node:child_process';
import { randomUUID, createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { openMetaStore } from '../packages/server/src/store/meta/sql-meta-store.ts';
import { hashPassword } from '../packages/server/src/auth/passwords.ts';
import { DatabaseSync } from 'node:sqlite';
import { ROOT, printTable, writeResult } from './lib.ts';

const { values: args } = parseArgs({
  options: {
    devices: { type: 'string', default: '100000' },
    stored: { type: 'string', default: '10000000' },
    rate: { type: 'string', default: '10000' },
    seconds: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
  },
});
const DEVICES = Number(args.devices);
const STORED = Number(args.stored);
const RATE = Number(args.rate);
const SECONDS = Number(args.seconds);
const ADMIN = { username: 'admin', password: 'bench-admin-password' };
const INGEST_TOKEN = 'fit_bench-' + randomUUID();
const DAY = 86_400_000;
const MAX_BACKLOG = 5000;

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
       bytes_up, bytes_down, files_total)
     VALUES (?, ?, ?, ?, 10, ?, ?, 1500, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
    INSERT INTO sync_events (dev_no, at, received_at, status, files, errors, speed, duration_ms, bytes_up, bytes_down, error_message)
    SELECT k + 1, ${base} + n * ${step}, ${base} + n * ${step}, CASE WHEN ${fail} THEN 'failed' ELSE 'ok' END, 10,
      CASE WHEN ${fail} THEN 2 ELSE 0 END, 20 + n % 30, 1500, 4096, 8192,
      CASE WHEN ${fail} THEN 'connection reset' ELSE NULL END
    FROM d CROSS JOIN e ORDER BY k, n`);
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

async function startServer(
  dataDir: string,
): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const code = `import { loadConfig } from ${JSON.stringify(join(ROOT, 'packages/server/src/config.ts'))};
import { startServer } from ${JSON.stringify(join(ROOT, 'packages/server/src/start.ts'))};
await startServer(loadConfig());`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', code], {
    env: {
      ...process.env,
      ...(process.env.BENCH_PROF
        ? { NODE_OPTIONS: `--cpu-prof --cpu-prof-dir=${process.env.BENCH_PROF}` }
        : {}),
      FERRY_DATA_DIR: dataDir,
      FERRY_PORT: '0',
      FERRY_HOST: '127.0.0.1',
      FERRY_LOG_LEVEL: 'warn',
      FERRY_ADMIN_PASSWORD: ADMIN.password,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /listening on (http:\/\/[\d.:]+)/.exec(out);
      if (m) ok(m[1]);
    });
    child.once('exit', (c) => fail(new Error(`server exited with ${c}`)));
  });
  child.stdout.resume();
  return {
    url,
    pid: child.pid!,
    stop: () =>
      new Promise((ok) => {
        child.once('exit', () => ok());
        child.kill('SIGTERM');
      }),
  };
}

/** CPU seconds (user + system) the process has used. */
async function cpuSeconds(pid: number): Promise<number> {
  const f = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

async function rssMb(pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const m = /VmRSS:\s+(\d+) kB/.exec(s);
  return m ? Number(m[1]) / 1024 : NaN;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 128 });

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

function eventFor(deviceId: string, i: number): object {
  const failed = i % 10 === 0;
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

interface LoadResult {
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
}

/** Runs a load and adds the CPU share (cores) the server and the generator used meanwhile. */
async function measured(pid: number, run: () => Promise<LoadResult>): Promise<LoadResult> {
  const s0 = await cpuSeconds(pid);
  const g0 = process.cpuUsage();
  const r = await run();
  const g = process.cpuUsage(g0);
  return {
    ...r,
    serverCpu: ((await cpuSeconds(pid)) - s0) / r.seconds,
    generatorCpu: (g.user + g.system) / 1e6 / r.seconds,
  };
}

/** Open loop: sends at `rate` requests/s whatever the answers; latency from the intended send time. */
async function openLoop(url: string, ids: string[], rate: number, seconds: number): Promise<LoadResult> {
  const lat: number[] = [];
  const status: Record<string, number> = {};
  const inflight = new Set<Promise<void>>();
  const start = performance.now();
  let sent = 0;
  let seq = 0;
  while (performance.now() - start < seconds * 1000) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    for (; sent < due; sent++) {
      const intended = start + (sent / rate) * 1000;
      // A server far below the rate would grow the backlog without end (and the run with it):
      // beyond MAX_BACKLOG outstanding requests a send is skipped and counted as such.
      if (inflight.size >= MAX_BACKLOG) {
        status.skipped = (status.skipped ?? 0) + 1;
        continue;
      }
      const id = ids[(Math.random() * ids.length) | 0];
      const p = request(
        url,
        'POST',
        '/api/v1/sync-events',
        INGEST_TOKEN,
        JSON.stringify(eventFor(id, seq++)),
      ).then(
        (r) => {
          lat.push(performance.now() - intended);
          status[r.status] = (status[r.status] ?? 0) + 1;
        },
        () => void (status.error = (status.error ?? 0) + 1),
      );
      inflight.add(p);
      void p.finally(() => inflight.delete(p));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inflight);
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  const ok = status['202'] ?? 0;
  return {
    mode: `open loop ${rate}/s, 1 event/request`,
    seconds: elapsed,
    requests: sent,
    events: ok,
    eventsPerSecond: ok / elapsed,
    status,
    p50Ms: pct(lat, 50),
    p99Ms: pct(lat, 99),
    maxMs: lat.at(-1) ?? NaN,
  };
}

/** Closed loop: `conns` clients, each sending the next request when the last one is answered. */
async function closedLoop(
  url: string,
  ids: string[],
  perRequest: number,
  conns: number,
  seconds: number,
): Promise<LoadResult> {
  const lat: number[] = [];
  const status: Record<string, number> = {};
  const start = performance.now();
  let requests = 0;
  let events = 0;
  let seq = 0;
  await Promise.all(
    Array.from({ length: conns }, async () => {
      while (performance.now() - start < seconds * 1000) {
        const batch = Array.from({ length: perRequest }, () =>
          eventFor(ids[(Math.random() * ids.length) | 0], seq++),
        );
        const t = performance.now();
        const r = await request(
          url,
          'POST',
          '/api/v1/sync-events',
          INGEST_TOKEN,
          JSON.stringify(perRequest === 1 ? batch[0] : batch),
        );
        lat.push(performance.now() - t);
        status[r.status] = (status[r.status] ?? 0) + 1;
        requests++;
        if (r.status === 202) events += perRequest;
        else if (r.status === 503) await new Promise((ok) => setTimeout(ok, 50));
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  lat.sort((a, b) => a - b);
  return {
    mode: `closed loop, ${conns} connections, ${perRequest} event(s)/request`,
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

async function main() {
  const dataDir = await mkdtemp(join(tmpdir(), 'ferry-telemetry-bench-'));
  log(`data dir ${dataDir}; ${cpus().length} CPUs; ${DEVICES} devices, ${STORED} stored events`);
  const ids = await seed(dataDir);
  const server = await startServer(dataDir);
  let peakRss = 0;
  const sampler = setInterval(
    () => void rssMb(server.pid).then((m) => (peakRss = Math.max(peakRss, m || 0))),
    100,
  );
  try {
    const login = await request(server.url, 'POST', '/api/v1/auth/login', '', JSON.stringify(ADMIN));
    const adminToken = (JSON.parse(login.text) as { accessToken: string }).accessToken;
    const idleRss = await rssMb(server.pid);
    log(`server up at ${server.url}, RSS ${idleRss.toFixed(0)} MB; open loop at ${RATE}/s for ${SECONDS}s`);
    const runs: LoadResult[] = [];
    runs.push(await measured(server.pid, () => openLoop(server.url, ids, RATE, SECONDS)));
    log('closed loop, 1 event/request');
    runs.push(await measured(server.pid, () => closedLoop(server.url, ids, 1, 64, 10)));
    log('closed loop, 100 events/request');
    runs.push(await measured(server.pid, () => closedLoop(server.url, ids, 100, 8, 10)));
    const ingestRss = peakRss;

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
    const background = openLoop(server.url, ids, RATE / 2, 5);
    const rfLoaded = await timeQuery(100);
    await background;
    const stored = STORED + runs.reduce((s, r) => s + r.events, 0);

    const results = {
      loadAverage: loadavg(),
      seedMethod: 'direct SQL bulk insert (recursive CTE), not the ingest path',
      cpus: cpus().length,
      devices: DEVICES,
      storedEvents: stored,
      ingest: runs,
      repeatedFailures: { idle: rfIdle, underIngest: rfLoaded },
      serverRssMb: { idle: idleRss, peakDuringIngest: ingestRss, peak: peakRss },
      targets: { eventsPerSecond: 10_000, p99Ms: 50, repeatedFailuresMs: 50, rssMb: 200 },
    };
    const f = (n: number, d = 1) => (Number.isFinite(n) ? n.toFixed(d) : '-');
    console.log(
      `\nFerry telemetry bench — ${DEVICES.toLocaleString()} devices, ${stored.toLocaleString()} stored events, ${cpus().length} CPUs, load average ${loadavg()[0].toFixed(1)}, ${process.version}`,
    );
    printTable('Ingest over HTTP keep-alive (POST /api/v1/sync-events, fleet ingest token)', [
      ['run', 'events/s', 'p50 ms', 'p99 ms', 'max ms', 'server CPU', 'generator CPU', 'statuses'],
      ...runs.map((r) => [
        r.mode,
        Math.round(r.eventsPerSecond),
        f(r.p50Ms),
        f(r.p99Ms),
        f(r.maxMs),
        f(r.serverCpu ?? NaN, 2),
        f(r.generatorCpu ?? NaN, 2),
        JSON.stringify(r.status),
      ]),
    ]);
    printTable('Targets', [
      ['measure', 'value', 'target'],
      ['ingest events/s (open loop, 1 event/request)', Math.round(runs[0].eventsPerSecond), '>= 10000'],
      ['ingest p99 (open loop)', `${f(runs[0].p99Ms)} ms`, '<= 50 ms'],
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
      ['server RSS idle / peak during ingest', `${f(idleRss, 0)} / ${f(ingestRss, 0)} MB`, '<= 200 MB'],
    ]);
    console.log(`\nwrote ${await writeResult('telemetry', results)}`);
  } finally {
    clearInterval(sampler);
    agent.destroy();
    await server.stop();
    if (!args.keep) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
