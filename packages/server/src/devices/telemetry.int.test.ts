// Fleet telemetry against the real server: ingest and history order, the repeated-failures rule
// (3 alerts once, 4 lists, a success resets), who may report for whom, back-pressure, bad input,
// fleet ingest tokens, the device listing and summary, drain on shutdown, retention.

import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startTestServer, type TestServer, type TestUser } from '../testing/test-server.ts';
import { EVENT_BYTES } from './packed-events.ts';

const DAY = 86_400_000;

/** A log destination that keeps the parsed JSON lines. */
function captureLog() {
  const lines: Record<string, unknown>[] = [];
  return {
    lines,
    stream: { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  };
}

const seed = (deviceId: string, at: number, errors: number, extra: Record<string, unknown> = {}) => ({
  device_id: deviceId,
  timestamp: new Date(at).toISOString(),
  total_files_synced: 10,
  total_errors: errors,
  internet_speed: 42.5,
  ...extra,
});

void describe('fleet telemetry', () => {
  let ts: TestServer;
  let alice: TestUser;
  let bob: TestUser;
  const log = captureLog();
  const post = (token: string, json: unknown, path = '/api/v1/sync-events') =>
    ts.request(path, { method: 'POST', token, json });

  const get = async (token: string, path: string): Promise<{ status: number; body: Record<string, any> }> => {
    const res = await ts.request(path, { token });
    return { status: res.status, body: (await res.json()) as Record<string, never> };
  };
  const alerts = (deviceId: string) =>
    log.lines.filter((l) => l.alert === 'device.failing' && l.deviceId === deviceId);

  before(async () => {
    ts = await startTestServer({ logLevel: 'warn', logStream: log.stream });
    alice = await ts.user('alice');
    bob = await ts.user('bob');
  });
  after(async () => ts.close());

  void it('stores seed events and returns history newest first, paged', async () => {
    const t0 = Date.now() - 3600_000;
    // Posted out of order: history is ordered by the devices' timestamps.
    for (const i of [2, 0, 3, 1])
      assert.equal(
        (await post(alice.token, seed(alice.deviceId, t0 + i * 1000, 0), '/sync-event')).status,
        202,
      );
    const res = await post(alice.token, [
      seed(alice.deviceId, t0 + 5000, 0),
      { timestamp: t0 + 4000, total_files_synced: 1, total_errors: 0 },
    ]);
    assert.equal(res.status, 202);
    assert.deepEqual(await res.json(), { accepted: 2 });
    const h = await get(alice.token, `/device/${alice.deviceId}/sync-history`);
    assert.equal(h.status, 200);
    assert.deepEqual(
      h.body.events.map((e: { timestamp: string }) => Date.parse(e.timestamp)),
      [5, 4, 3, 2, 1, 0].map((i) => t0 + i * 1000),
    );
    assert.equal(h.body.events[0].status, 'ok');
    assert.equal(h.body.events[0].internet_speed, 42.5);
    assert.equal(h.body.cursor, null);
    const p1 = await get(alice.token, `/api/v1/devices/${alice.deviceId}/sync-history?limit=4`);
    const p2 = await get(
      alice.token,
      `/api/v1/devices/${alice.deviceId}/sync-history?limit=4&cursor=${p1.body.cursor}`,
    );
    assert.deepEqual(
      [...p1.body.events, ...p2.body.events].map((e: { id: number }) => e.id),
      h.body.events.map((e: { id: number }) => e.id),
    );
    assert.equal(p2.body.cursor, null);
  });

  void it('alerts once on the third failure in a row, lists more than 3, and resets on success', async () => {
    const dev = await ts.user('carol', undefined, { name: 'kiosk-7', kind: 'other' });
    const failing: unknown[] = [];
    const off = ts.server.events.on('device.failing', (e) => failing.push(e));
    const t0 = Date.now() - 600_000;
    // The listing waits for queued events only briefly (it must stay fast under load): settle first.
    const listed = async () =>
      (await ts.server.telemetry.settle(),
      await get(ts.adminToken, '/devices/repeated-failures')).body.devices.find(
        (d: { deviceId: string }) => d.deviceId === dev.deviceId,
      );
    const fail = async (i: number) =>
      assert.equal(
        (
          await post(
            dev.token,
            seed(dev.deviceId, t0 + i * 1000, 2, { error_message: `disk full ${i}` }),
            '/sync-event',
          )
        ).status,
        202,
      );

    await post(dev.token, seed(dev.deviceId, t0, 0), '/sync-event');
    await fail(1);
    await fail(2);
    assert.equal(await listed(), undefined);
    assert.equal(alerts(dev.deviceId).length, 0);
    await fail(3);
    assert.equal(await listed(), undefined, 'exactly 3 failures is not "more than 3"');
    assert.equal(alerts(dev.deviceId).length, 1);
    assert.equal(alerts(dev.deviceId)[0].level, 40);
    assert.equal(alerts(dev.deviceId)[0].consecutiveFailures, 3);
    assert.equal(failing.length, 1);
    await fail(4);
    const row = await listed();
    assert.equal(row.consecutiveFailures, 4);
    assert.equal(row.failures, 4);
    assert.equal(row.syncs, 5);
    assert.equal(row.name, 'kiosk-7');
    assert.equal(row.lastError, 'disk full 4');
    assert.equal(row.lastSuccessAt, t0);
    assert.equal(
      (await get(ts.adminToken, '/api/v1/devices/repeated-failures')).body.devices.length >= 1,
      true,
    );
    // The owner sees it in their own list; another user does not.
    assert.equal((await get(dev.token, '/api/v1/devices/repeated-failures')).body.devices.length, 1);
    assert.equal((await get(bob.token, '/api/v1/devices/repeated-failures')).body.devices.length, 0);
    await fail(5);
    assert.equal(alerts(dev.deviceId).length, 1, 'no second warning while it keeps failing');
    const mine = (await get(dev.token, '/api/v1/devices')).body.devices.find(
      (d: { id: string }) => d.id === dev.deviceId,
    );
    assert.equal(mine.consecutiveFailures, 5);
    assert.equal(mine.lastSyncStatus, 'failed');
    assert.equal(mine.lastSync.errorMessage, 'disk full 5');

    await post(dev.token, seed(dev.deviceId, t0 + 6000, 0), '/sync-event');
    assert.equal(await listed(), undefined, 'a success resets the streak');
    assert.equal((await get(dev.token, '/api/v1/devices')).body.devices[0].consecutiveFailures, 0);
    for (const i of [7, 8, 9]) await fail(i);
    await get(dev.token, `/device/${dev.deviceId}/sync-history`); // waits for the writes
    assert.equal(alerts(dev.deviceId).length, 2, 'a new streak warns again');
    assert.equal(failing.length, 2);
    off();
    const metrics = await (await ts.request('/metrics')).text();
    assert.match(metrics, /ferry_sync_events_total\{status="failed"\} \d+/);
    assert.match(metrics, /ferry_devices_failing [1-9]/);
    // One event at a time is written in-process: no writer thread was started, so its heap reads 0
    // (sql-telemetry-store.int.test.ts starts one with a big batch).
    const writerHeap = Number(/^ferry_telemetry_writer_heap_bytes (\d+)/m.exec(metrics)?.[1]);
    assert.equal(writerHeap, 0, `writer heap ${writerHeap}`);
  });

  void it('refuses a device reporting for another device without revealing whether it exists', async () => {
    const other = await post(alice.token, seed(bob.deviceId, Date.now(), 0));
    const missing = await post(alice.token, seed('no-such-device', Date.now(), 0));
    assert.equal(other.status, 403);
    assert.equal(missing.status, 403);
    assert.deepEqual(await other.json(), await missing.json());
    const h1 = await get(alice.token, `/api/v1/devices/${bob.deviceId}/sync-history`);
    const h2 = await get(alice.token, `/api/v1/devices/no-such-device/sync-history`);
    assert.equal(h1.status, 404);
    assert.deepEqual(h1.body, h2.body);
    assert.equal((await get(alice.token, `/api/v1/devices/${bob.deviceId}/summary`)).status, 404);
  });

  void it('answers bad input with a clear 4xx and stores nothing of a bad batch', async () => {
    const now = Date.now();
    const cases: [unknown, number, RegExp][] = [
      [seed(alice.deviceId, now + DAY, 0), 400, /future/],
      [seed(alice.deviceId, now, -1), 400, /total_errors/],
      [{ ...seed(alice.deviceId, now, 0), total_files_synced: -5 }, 400, /total_files_synced/],
      [{ ...seed(alice.deviceId, now, 0), surprise: 1 }, 400, /unknown field "surprise"/],
      [{ ...seed(alice.deviceId, now, 0), timestamp: 'yesterday' }, 400, /timestamp/],
      [{ ...seed(alice.deviceId, now, 0), status: 'meh' }, 400, /status/],
      [[], 400, /no events/],
      [Array.from({ length: 1001 }, () => seed(alice.deviceId, now, 0)), 413, /at most 1000/],
      [[seed(alice.deviceId, now - 1, 0), seed(alice.deviceId, now + DAY, 0)], 400, /event 1/],
    ];
    const before = (await get(alice.token, `/api/v1/devices/${alice.deviceId}/summary`)).body.syncs;
    for (const [body, status, message] of cases) {
      const res = await post(alice.token, body);
      const b = (await res.json()) as { error: { message: string } };
      assert.equal(res.status, status, JSON.stringify(b));
      assert.match(b.error.message, message);
    }
    assert.equal((await get(alice.token, `/api/v1/devices/${alice.deviceId}/summary`)).body.syncs, before);
    const unknown = await post(ts.adminToken, seed('no-such-device', now, 0));
    assert.equal(unknown.status, 404);
    assert.equal(
      (await ts.request('/sync-event', { method: 'POST', json: seed(alice.deviceId, now, 0) })).status,
      401,
    );
  });

  void it('lets fleet ingest tokens report for any device, and nothing else', async () => {
    const created = await ts.request('/api/v1/admin/ingest-tokens', {
      method: 'POST',
      token: ts.adminToken,
      json: { name: 'gateway' },
    });
    assert.equal(created.status, 201);
    const { token, id } = (await created.json()) as { token: string; id: string };
    assert.equal(
      (
        await ts.request('/api/v1/admin/ingest-tokens', {
          method: 'POST',
          token: alice.token,
          json: { name: 'x' },
        })
      ).status,
      403,
    );
    assert.equal(
      (await post(token, [seed(alice.deviceId, Date.now() - 10, 0), seed(bob.deviceId, Date.now() - 10, 1)]))
        .status,
      202,
    );
    assert.equal(
      (await post(token, { ...seed(bob.deviceId, Date.now(), 0), device_id: undefined })).status,
      400,
    );
    assert.equal((await post(token, seed('no-such-device', Date.now(), 0))).status, 404);
    assert.equal((await get(token, '/api/v1/devices')).status, 401);
    assert.equal((await get(token, '/api/v1/devices/repeated-failures')).status, 401);
    const listed = await get(ts.adminToken, '/api/v1/admin/ingest-tokens');
    assert.equal(JSON.stringify(listed.body).includes(token), false);
    assert.equal(
      (await ts.request(`/api/v1/admin/ingest-tokens/${id}`, { method: 'DELETE', token: ts.adminToken }))
        .status,
      204,
    );
    assert.equal((await post(token, seed(bob.deviceId, Date.now(), 0))).status, 401);
  });

  void it('summarises a device and lists devices with their latest sync', async () => {
    const dev = await ts.user('dave');
    const t0 = Date.now() - 60_000;
    const sent = Date.now();
    await post(dev.token, [
      seed(dev.deviceId, t0, 0, { internet_speed: 10, duration_ms: 100, bytes_up: 1000 }),
      seed(dev.deviceId, t0 + 1, 1, {
        internet_speed: 30,
        duration_ms: 300,
        bytes_up: 500,
        error_message: 'timeout',
      }),
      seed(dev.deviceId, t0 + 2, 0, { internet_speed: null, status: 'partial' }),
      seed(dev.deviceId, t0 + 3, 0, { internet_speed: 20 }),
    ]);
    const s = (await get(dev.token, `/api/v1/devices/${dev.deviceId}/summary`)).body;
    assert.equal(s.syncs, 4);
    assert.equal(s.ok, 2);
    assert.equal(s.failed, 2);
    assert.equal(s.successRate, 0.5);
    assert.equal(s.averageSpeed, 20);
    assert.equal(s.averageDurationMs, 200);
    assert.equal(s.bytesUp, 1500);
    assert.equal(s.lastSync.at, t0 + 3);
    assert.equal(s.lastFailureAt, t0 + 2);
    const d = (await get(dev.token, '/api/v1/devices')).body.devices[0];
    assert.deepEqual(
      [d.id, d.current, d.lastSyncStatus, d.consecutiveFailures, d.lastSync.speed],
      [dev.deviceId, true, 'ok', 0, 20],
    );
    assert.equal(typeof d.createdAt, 'number');
    assert.ok(d.lastSeenAt >= sent, 'a sync report counts as being seen');
  });

  void it('defaults status from total_errors unless given, and counts events by status in /metrics', async () => {
    const dev = await ts.user('hana');
    const t0 = Date.now() - 60_000;
    const count = async (status: string) =>
      Number(
        new RegExp(`ferry_sync_events_total\\{status="${status}"\\} (\\d+)`).exec(
          await (await ts.request('/metrics')).text(),
        )?.[1] ?? 0,
      );
    const [ok0, failed0] = [await count('ok'), await count('failed')];
    await post(dev.token, [
      seed(dev.deviceId, t0, 0),
      seed(dev.deviceId, t0 + 1, 3),
      seed(dev.deviceId, t0 + 2, 3, { status: 'ok' }),
      seed(dev.deviceId, t0 + 3, 0, { status: 'failed' }),
    ]);
    const h = await get(dev.token, `/device/${dev.deviceId}/sync-history`);
    assert.deepEqual(
      h.body.events.map((e: { status: string; total_errors: number }) => [e.status, e.total_errors]),
      [
        ['failed', 0],
        ['ok', 3],
        ['failed', 3],
        ['ok', 0],
      ],
    );
    assert.equal((await count('ok')) - ok0, 2);
    assert.equal((await count('failed')) - failed0, 2);
  });

  void it('serves the latest sync of a device from memory while the database is busy', async () => {
    const dev = await ts.user('ivan');
    const t0 = Date.now() - 60_000;
    await post(dev.token, seed(dev.deviceId, t0, 0));
    const me = [{ id: dev.deviceId, userId: dev.userId }];
    assert.equal((await ts.server.telemetry.latest(me)).get(dev.deviceId)?.at, t0); // loads the cache
    assert.equal(
      (await post(dev.token, seed(dev.deviceId, t0 + 1000, 1, { error_message: 'eio' }))).status,
      202,
    );
    let release!: () => void;
    const held = ts.server.stores.meta.transaction(() => new Promise<void>((r) => (release = r)));
    try {
      // The database cannot answer while the transaction is held: the answer comes from memory.
      const latest = await Promise.race([
        ts.server.telemetry.latest(me),
        new Promise<'blocked'>((r) => setTimeout(() => r('blocked'), 2000)),
      ]);
      assert.notEqual(latest, 'blocked');
      const e = (
        latest as Map<string, { at: number; status: string; errorMessage: string | null } | null>
      ).get(dev.deviceId);
      assert.deepEqual([e?.at, e?.status, e?.errorMessage], [t0 + 1000, 'failed', 'eio']);
    } finally {
      release();
      await held;
    }
  });

  void it('prunes events older than the retention age', async () => {
    const dev = await ts.user('erin');
    await post(dev.token, [
      seed(dev.deviceId, Date.now() - 100 * DAY, 0),
      seed(dev.deviceId, Date.now() - 1000, 0),
    ]);
    await ts.server.telemetry.settle();
    await ts.server.telemetry.prune();
    const h = await get(dev.token, `/api/v1/devices/${dev.deviceId}/sync-history`);
    assert.equal(h.body.events.length, 1);
  });
});

void describe('ingest back-pressure and shutdown', () => {
  void it('lists a device in repeated-failures right after its fourth failed report on a fresh server', async () => {
    // What a new user does with curl: the first report starts the writer thread, and the list is
    // asked for before the last reports are written.
    const fresh = await startTestServer({ logLevel: 'silent' });
    try {
      const u = await fresh.user('gina');
      for (let i = 1; i <= 4; i++) {
        const res = await fresh.request('/sync-event', {
          method: 'POST',
          token: u.token,
          json: seed(u.deviceId, Date.now() - 10_000 + i, 2),
        });
        assert.equal(res.status, 202);
      }
      const res = await fresh.request('/devices/repeated-failures', { token: u.token });
      const body = (await res.json()) as { devices: { deviceId: string; consecutiveFailures: number }[] };
      assert.deepEqual(
        body.devices.map((d) => [d.deviceId, d.consecutiveFailures]),
        [[u.deviceId, 4]],
      );
    } finally {
      await fresh.close();
    }
  });

  void it('answers 503 with Retry-After when the queue is full, and accepts again once it drains', async () => {
    const ts = await startTestServer({ telemetryQueueBytes: 5 * EVENT_BYTES }); // five events
    try {
      const created = await ts.request('/api/v1/admin/ingest-tokens', {
        method: 'POST',
        token: ts.adminToken,
        json: { name: 'gw' },
      });
      const { token } = (await created.json()) as { token: string };
      const u = await ts.user('frank');
      const post = (n: number) =>
        ts.request('/api/v1/sync-events', {
          method: 'POST',
          token,
          json: Array.from({ length: n }, (_, i) => seed(u.deviceId, Date.now() - 1000 + i, 0)),
        });
      assert.equal((await post(1)).status, 202); // warms the token and device caches
      await ts.server.telemetry.settle();
      // Hold the database so nothing can be written: the queue fills.
      let release!: () => void;
      const held = ts.server.stores.meta.transaction(() => new Promise<void>((r) => (release = r)));
      try {
        assert.equal((await post(3)).status, 202);
        assert.equal((await post(2)).status, 202);
        const full = await post(1);
        assert.equal(full.status, 503);
        assert.equal(full.headers.get('retry-after'), '1');
        assert.equal(((await full.json()) as { error: { code: string } }).error.code, 'UNAVAILABLE');
      } finally {
        release();
        await held;
      }
      await ts.server.telemetry.settle();
      assert.equal((await post(5)).status, 202);
      assert.match(await (await ts.request('/metrics')).text(), /ferry_sync_events_rejected_total 1/);
    } finally {
      await ts.close();
    }
  });

  void it('writes every accepted event before a clean shutdown completes', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'ferry-drain-'));
    try {
      const ts = await startTestServer({ dataDir });
      const u = await ts.user('gina');
      const t0 = Date.now() - 10_000;
      for (let b = 0; b < 4; b++) {
        const res = await ts.request('/api/v1/sync-events', {
          method: 'POST',
          token: u.token,
          json: Array.from({ length: 50 }, (_, i) => seed(u.deviceId, t0 + b * 50 + i, 0)),
        });
        assert.equal(res.status, 202);
      }
      await ts.close(); // no settle: close() must drain
      const again = await startTestServer({ dataDir });
      try {
        const login = await again.request('/api/v1/auth/login', {
          method: 'POST',
          json: { username: 'gina', password: 'gina-password' },
        });
        const { accessToken, deviceId } = (await login.json()) as { accessToken: string; deviceId: string };
        assert.ok(deviceId);
        const s = await again.request(`/api/v1/devices/${u.deviceId}/summary`, { token: accessToken });
        assert.equal(((await s.json()) as { syncs: number }).syncs, 200);
      } finally {
        await again.close();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
