// Fleet telemetry: validates sync reports and who may send them, queues them for group commit
// (bounded: a full queue is a 503 with Retry-After), keeps each device's latest sync in memory,
// raises the "failing device" alert once per streak, serves history, failures and summaries, and
// prunes old events in the background.
//
// What "accepted" (202) guarantees: the events passed validation and are in the bounded in-memory
// queue, packed into columns (packed-events.ts). From there they are written in batches by a
// TelemetryWriter (a worker thread with its own SQLite connection, or the PostgreSQL pool), each
// batch in one transaction committed with an fsync. A clean shutdown (SIGTERM, close()) stops
// taking events and drains the queue before the database closes, so every accepted event is
// stored. A crash or power loss loses the events still in the queue (at most queueBytes of them, in
// practice the last ~lingerMs + one commit of them) and never anything of a committed batch. Reads
// that must see an accepted event (history, summary) wait for the queue first (settle).

import type { FastifyBaseLogger } from 'fastify';
import type { Registry } from 'prom-client';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Device, UserRole } from '../store/meta/types.ts';
import type {
  DeviceSyncState,
  StoredSyncEvent,
  SyncEventRecord,
  SyncStatus,
} from '../store/meta/sql-telemetry-store.ts';
import type { EventBus } from '../events/event-bus.ts';
import { IngestQueue } from './ingest-queue.ts';
import { DeviceTable } from './device-table.ts';
import { EVENT_BYTES, STATUS_CODE, SyncEventBatch, messageBytes, type EventValues } from './packed-events.ts';
import { telemetryWriterFor, type TelemetryWriter } from './telemetry-writer.ts';
import { createTelemetryMetrics, type TelemetryMetrics } from './telemetry-metrics.ts';

/** The third failure in a row raises the alert; "repeated failures" are more than three. */
export const ALERT_AFTER_FAILURES = 3;
export const REPEATED_FAILURES_MIN = 4;
/** Events per request. */
export const MAX_BATCH = 1000;
/** How far ahead of the server's clock a timestamp may be (device clocks drift). */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
const DEVICE_CACHE_MS = 5 * 60_000;
const OK = STATUS_CODE.ok;
const FAILED = STATUS_CODE.failed;
const DEVICE_CACHE_MAX = 500_000;
const PRUNE_STEP = 10_000;
/** Devices loaded per query when the reporting fleet is loaded at start. */
const PRELOAD_STEP = 5000;
/** How long a fleet-wide query waits for queued events to be written. */
const FRESHNESS_MS = 50;
/** At most this many queued events is a quiet server: fleet-wide queries wait for them. */
const QUIET_QUEUE = 64;
const QUIET_WAIT_MS = 1000;

/** Who sends a report: a device (an access token) or a fleet ingest token. */
export type Reporter =
  { kind: 'device'; userId: string; deviceId: string; role: UserRole } | { kind: 'fleet'; tokenId: string };

/** A sync report as it arrives (the seed's field names). */
export interface SyncEventInput {
  device_id?: string;
  timestamp: string | number;
  total_files_synced: number;
  total_errors: number;
  internet_speed?: number | null;
  duration_ms?: number;
  bytes_up?: number;
  bytes_down?: number;
  status?: SyncStatus;
  error_message?: string;
}

/** Who reads: a signed-in user. Admins see every device; others only their own. */
export interface Reader {
  userId: string;
  role: UserRole;
}

export interface TelemetryServiceOptions {
  meta: MetaStore;
  bus: EventBus;
  log: FastifyBaseLogger;
  registry: Registry;
  /** Most bytes of packed events held in memory before ingest answers 503 (EVENT_BYTES each, plus messages). */
  queueBytes: number;
  /** Events older than this many days are pruned; 0 keeps them forever. */
  retentionDays: number;
  pruneIntervalMs?: number;
  /** Group commit: how long a partial batch waits for more events (ms). Default 25. */
  lingerMs?: number;
  /** Where batches are written; default telemetryWriterFor(meta) (a worker thread for SQLite files). */
  writer?: TelemetryWriter;
}

const ISO_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/;

function parseTimestamp(t: string | number, index: number): number {
  const at = typeof t === 'number' ? t : ISO_RE.test(t) ? Date.parse(t) : Number.NaN;
  if (!Number.isSafeInteger(at) || at < 0) {
    throw new FerryError(
      'BAD_REQUEST',
      `event ${index}: timestamp must be ISO 8601 or milliseconds since the epoch`,
      { index },
    );
  }
  if (at > Date.now() + MAX_CLOCK_SKEW_MS)
    throw new FerryError('BAD_REQUEST', `event ${index}: timestamp is in the future`, { index });
  return at;
}

export class TelemetryService {
  readonly #o: TelemetryServiceOptions;
  readonly #queue: IngestQueue<SyncEventBatch>;
  readonly #devices = new DeviceTable(DEVICE_CACHE_MAX);
  readonly #metrics: TelemetryMetrics;
  readonly #writer: TelemetryWriter;
  #pruneTimer: NodeJS.Timeout | undefined;
  #pruning: Promise<void> | undefined;
  #preloading: Promise<void> | undefined;

  constructor(o: TelemetryServiceOptions) {
    this.#o = o;
    this.#writer = o.writer ?? telemetryWriterFor(o.meta);
    this.#queue = new IngestQueue({
      capacityBytes: o.queueBytes,
      maxBatch: this.#writer.maxBatch,
      newBatch: () => new SyncEventBatch(256, this.#writer.maxBatch),
      lingerMs: o.lingerMs ?? 25,
      commit: (batch) => this.#commit(batch),
      onError: (err, { attempt, dropped }) =>
        o.log.error(
          { err, attempt, dropped },
          dropped
            ? `dropped ${dropped} sync events after ${attempt} failed writes`
            : 'writing sync events failed; retrying',
        ),
    });
    this.#metrics = createTelemetryMetrics(o.registry, {
      queueDepth: () => this.#queue.depth,
      queueBytes: () => this.#queue.bytes,
      failingDevices: () => o.meta.telemetry.countFailing(ALERT_AFTER_FAILURES),
      writerHeapBytes: async () => this.#writer.heapBytes?.(),
    });
  }

  /** Loads the devices that report (see #preload) and starts the retention timer. */
  start(): void {
    this.#preloading = this.#preload();
    if (this.#o.retentionDays <= 0) return;
    this.#pruneTimer = setInterval(() => void this.prune(), this.#o.pruneIntervalMs ?? 3600_000);
    this.#pruneTimer.unref();
  }

  /** Stops the timer and writes every accepted event. Call before the database closes. */
  async close(): Promise<void> {
    clearInterval(this.#pruneTimer);
    await this.#preloading;
    await this.#queue.close();
    await this.#pruning;
    await this.#writer.close();
  }

  /** Resolves when every event accepted so far is in the database (read-your-writes for queries). */
  settle(): Promise<void> {
    return this.#queue.settle();
  }

  /** Validates a batch (all or nothing) and queues it. Throws 4xx for bad input, 503 when full. */
  async ingest(reporter: Reporter, inputs: readonly SyncEventInput[]): Promise<{ accepted: number }> {
    if (inputs.length === 0) throw new FerryError('BAD_REQUEST', 'no events');
    if (inputs.length > MAX_BATCH)
      throw new FerryError('PAYLOAD_TOO_LARGE', `at most ${MAX_BATCH} events per request`, {
        max: MAX_BATCH,
      });
    let bytes = inputs.length * EVENT_BYTES;
    for (const e of inputs) if (e.error_message !== undefined) bytes += messageBytes(e.error_message);
    if (this.#queue.bytes + bytes > this.#o.queueBytes) throw this.#full();
    const now = Date.now();
    const ids: string[] = [];
    const slots: number[] = [];
    const ats: number[] = [];
    for (let i = 0; i < inputs.length; i++) {
      const e = inputs[i];
      const deviceId = this.#deviceOf(reporter, e.device_id, i);
      const known = this.#authorize(reporter, deviceId, i, now);
      ids.push(deviceId);
      slots.push(typeof known === 'number' ? known : await known);
      ats.push(parseTimestamp(e.timestamp, i));
    }
    // A device forgotten meanwhile (the table was full while a lookup was awaited) gave up its slot.
    for (let i = 0; i < inputs.length; i++)
      if (this.#devices.slot(ids[i]) !== slots[i]) return this.ingest(reporter, inputs);
    const accepted = this.#queue.offer(inputs.length, bytes, (batch) => {
      for (let i = 0; i < inputs.length; i++) {
        const e = inputs[i];
        const v: EventValues = {
          status: e.status === undefined ? (e.total_errors > 0 ? FAILED : OK) : STATUS_CODE[e.status],
          at: ats[i],
          receivedAt: now,
          files: e.total_files_synced,
          errors: e.total_errors,
          speed: e.internet_speed ?? null,
          durationMs: e.duration_ms ?? null,
          bytesUp: e.bytes_up ?? null,
          bytesDown: e.bytes_down ?? null,
          errorMessage: e.error_message ?? null,
        };
        batch.add(ids[i], v);
        this.#devices.observe(slots[i], v);
      }
    });
    if (!accepted) throw this.#full();
    return { accepted: inputs.length };
  }

  #full(): FerryError {
    this.#metrics.rejected.inc();
    return new FerryError('UNAVAILABLE', 'the sync event queue is full; retry later', { retryAfter: 1 });
  }

  /**
   * Remembers every device that has reported (up to the cache's size), so that ingest checks a
   * reporter against memory, not the database. Without it a restarted server under fleet load
   * looked up each device once (100k lookups in its first seconds, each on a page cache that every
   * batch commit of the writer thread empties: a third of the main thread).
   */
  async #preload(): Promise<void> {
    const now = Date.now();
    try {
      for (let after = 0; this.#devices.size < DEVICE_CACHE_MAX / 2;) {
        const page = await this.#o.meta.telemetry.reportingDevices(after, PRELOAD_STEP);
        for (const d of page) {
          // Checked again within DEVICE_CACHE_MS like any entry, spread out rather than all at once.
          if (this.#devices.slot(d.id) === undefined)
            this.#devices.add(d.id, d.userId, now - Math.random() * (DEVICE_CACHE_MS / 2));
        }
        if (page.length < PRELOAD_STEP) break;
        after = page[page.length - 1].devNo;
      }
    } catch (err) {
      this.#o.log.warn({ err }, 'loading the reporting devices failed; they are looked up as they report');
    }
  }

  /** The device an event is for: the reporter's own, or the one it names where it may. */
  #deviceOf(reporter: Reporter, given: string | undefined, index: number): string {
    if (reporter.kind === 'device' && reporter.role !== 'admin') {
      // A device reports for itself only; whether the other device exists is not revealed.
      if (given !== undefined && given !== reporter.deviceId)
        throw new FerryError('FORBIDDEN', 'a device may only report its own sync events', { index });
      return reporter.deviceId;
    }
    const id = given ?? (reporter.kind === 'device' ? reporter.deviceId : undefined);
    if (!id) throw new FerryError('BAD_REQUEST', `event ${index}: device_id is required`, { index });
    return id;
  }

  /** The device's slot in the table once it is known to exist (from memory when checked lately). */
  #authorize(reporter: Reporter, id: string, index: number, now: number): number | Promise<number> {
    if (reporter.kind === 'device' && reporter.role !== 'admin')
      return this.#devices.add(id, reporter.userId, now);
    const slot = this.#devices.slot(id);
    if (slot !== undefined && now - this.#devices.checkedAt(slot) < DEVICE_CACHE_MS) return slot;
    return this.#o.meta.devices.byId(id).then((d) => {
      if (!d || d.revokedAt !== null)
        throw new NotFoundError(`device ${JSON.stringify(id.slice(0, 64))}`, { index });
      return this.#devices.add(id, d.userId, now);
    });
  }

  async #commit(batch: SyncEventBatch): Promise<void> {
    const stop = this.#metrics.commitSeconds.startTimer();
    const outcomes = await this.#writer.record(batch);
    stop();
    const ok = batch.ok;
    if (ok) this.#metrics.events.inc({ status: 'ok' }, ok);
    if (batch.length - ok) this.#metrics.events.inc({ status: 'failed' }, batch.length - ok);
    for (const o of outcomes) {
      const slot = this.#devices.slot(o.deviceId);
      const before = slot === undefined ? undefined : this.#devices.failures(slot);
      if (slot !== undefined) this.#devices.setFailures(slot, o.consecutiveFailures);
      if (o.stale) continue;
      const from = o.reset ? 0 : o.consecutiveFailures - o.tail;
      if (from < ALERT_AFTER_FAILURES && o.consecutiveFailures >= ALERT_AFTER_FAILURES)
        await this.#alert(o.deviceId, o.consecutiveFailures);
      else if (
        o.reset &&
        before !== undefined &&
        before >= ALERT_AFTER_FAILURES &&
        o.consecutiveFailures < ALERT_AFTER_FAILURES
      ) {
        const d = await this.#o.meta.devices.byId(o.deviceId);
        if (d)
          this.#o.bus.emit('device.recovered', {
            deviceId: d.id,
            userId: d.userId,
            name: d.name,
            at: Date.now(),
          });
      }
    }
  }

  async #alert(deviceId: string, consecutiveFailures: number): Promise<void> {
    const [d, [s]] = await Promise.all([
      this.#o.meta.devices.byId(deviceId),
      this.#o.meta.telemetry.states([deviceId]),
    ]);
    if (!d) return;
    const lastError = s?.lastFailureMessage ?? null;
    this.#metrics.alerts.inc();
    this.#o.log.warn(
      {
        alert: 'device.failing',
        deviceId,
        deviceName: d.name,
        userId: d.userId,
        consecutiveFailures,
        lastError,
      },
      `device "${d.name}" (${deviceId}) failed ${consecutiveFailures} syncs in a row`,
    );
    this.#o.bus.emit('device.failing', {
      deviceId,
      userId: d.userId,
      name: d.name,
      consecutiveFailures,
      lastError,
      at: Date.now(),
    });
  }

  /** Deletes events older than the retention age, in bounded steps. */
  prune(now = Date.now()): Promise<void> {
    if (this.#pruning || this.#o.retentionDays <= 0) return this.#pruning ?? Promise.resolve();
    const cutoff = now - this.#o.retentionDays * 86_400_000;
    this.#pruning = (async () => {
      let removed = 0;
      try {
        for (;;) {
          const n = await this.#writer.prune(cutoff, PRUNE_STEP);
          removed += n;
          if (n < PRUNE_STEP) break;
          await new Promise((r) => setImmediate(r));
        }
        if (removed) this.#o.log.info({ removed, cutoff }, 'pruned old sync events');
      } catch (err) {
        this.#o.log.error({ err }, 'pruning sync events failed');
      } finally {
        this.#pruning = undefined;
      }
    })();
    return this.#pruning;
  }

  /** The device, if the reader may see it; else NOT_FOUND, exactly as for a missing one. */
  async #visible(reader: Reader, deviceId: string): Promise<void> {
    const d = await this.#o.meta.devices.byId(deviceId);
    if (!d || (d.userId !== reader.userId && reader.role !== 'admin')) throw new NotFoundError('device');
  }

  async history(
    reader: Reader,
    deviceId: string,
    o: { limit: number; cursor?: string },
  ): Promise<{ events: StoredSyncEvent[]; cursor: string | null }> {
    await this.#visible(reader, deviceId);
    let before: number | undefined;
    if (o.cursor) {
      before = Number(Buffer.from(o.cursor, 'base64url').toString('utf8'));
      if (!Number.isSafeInteger(before) || before < 1) throw new FerryError('BAD_REQUEST', 'invalid cursor');
    }
    await this.settle();
    const events = await this.#o.meta.telemetry.history(deviceId, { limit: o.limit + 1, before });
    const more = events.length > o.limit;
    if (more) events.length = o.limit;
    const last = events.at(-1);
    return {
      events,
      cursor: more && last ? Buffer.from(String(last.id)).toString('base64url') : null,
    };
  }

  /**
   * Fleet-wide, so it must stay fast under heavy ingest. With a few events queued (a quiet server:
   * someone posting reports by hand, the first batch still starting the writer thread) it waits
   * for them to be written, at most QUIET_WAIT_MS, so a report just posted shows up. Under load
   * the queue holds more: when the writer is idle, the events gathering for a batch are flushed
   * and waited for (at most FRESHNESS_MS); while a batch is being written (nearly always) it
   * answers at once, since waiting would cost a commit's time and each query would force a small
   * extra batch. It may then miss the events accepted in the last moments (the queue's content).
   */
  async repeatedFailures(reader: Reader, o: { min?: number; limit: number; offset: number }) {
    const depth = this.#queue.depth;
    const wait = depth > 0 && depth <= QUIET_QUEUE ? QUIET_WAIT_MS : this.#queue.writing ? 0 : FRESHNESS_MS;
    if (wait > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.settle(), new Promise<void>((r) => (timer = setTimeout(r, wait)))]);
      clearTimeout(timer);
    }
    return this.#o.meta.telemetry.failing({
      min: o.min ?? REPEATED_FAILURES_MIN,
      limit: o.limit,
      offset: o.offset,
      userId: reader.role === 'admin' ? undefined : reader.userId,
    });
  }

  async summary(reader: Reader, deviceId: string): Promise<DeviceSyncState | null> {
    await this.#visible(reader, deviceId);
    await this.settle();
    return (await this.#o.meta.telemetry.states([deviceId]))[0] ?? null;
  }

  /**
   * A user's devices with each one's latest sync. A device was last seen at its last sign-in or
   * refresh (the devices table) or its latest sync report, whichever is later.
   */
  async devicesOf(userId: string): Promise<{ device: Device; latest: SyncEventRecord | null }[]> {
    await this.settle();
    const devices = await this.#o.meta.devices.listByUser(userId);
    const latest = await this.latest(devices);
    return devices.map((device) => {
      const e = latest.get(device.id) ?? null;
      const seen = Math.max(device.lastSeenAt ?? 0, e ? Math.min(e.receivedAt, Date.now()) : 0);
      return { device: { ...device, lastSeenAt: seen || null }, latest: e };
    });
  }

  /** Each device's latest sync, from memory (loaded once from the database on a miss). */
  async latest(
    devices: readonly { id: string; userId: string }[],
  ): Promise<Map<string, SyncEventRecord | null>> {
    const now = Date.now();
    const out = new Map<string, SyncEventRecord | null>();
    const missing: string[] = [];
    for (const d of devices) {
      const slot = this.#devices.slot(d.id);
      const latest = slot === undefined ? undefined : this.#devices.latest(slot);
      if (latest !== undefined) out.set(d.id, latest);
      else missing.push(d.id);
    }
    if (missing.length) {
      await this.settle();
      const states = new Map((await this.#o.meta.telemetry.states(missing)).map((s) => [s.deviceId, s]));
      for (const d of devices) {
        if (out.has(d.id)) continue;
        const s = states.get(d.id);
        const slot = this.#devices.add(d.id, d.userId, now);
        // An event accepted meanwhile wins over the database row.
        this.#devices.load(slot, s ? stateValues(s) : null);
        out.set(d.id, this.#devices.latest(slot) ?? null);
      }
    }
    return out;
  }
}

function stateValues(s: DeviceSyncState): EventValues {
  return {
    status: STATUS_CODE[s.lastStatus],
    at: s.lastAt,
    receivedAt: s.lastAt,
    files: s.lastFiles,
    errors: s.lastErrors,
    speed: s.lastSpeed,
    durationMs: s.lastDurationMs,
    bytesUp: null,
    bytesDown: null,
    errorMessage: s.lastErrorMessage,
  };
}
