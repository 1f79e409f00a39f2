// SQL store for fleet telemetry: sync events, each device's incrementally maintained sync state
// (what "repeated failures" and summaries read, so they never scan events) and fleet ingest tokens.

import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { num, numOrNull, strOrNull, uniquely } from './sql-util.ts';

export const SYNC_STATUSES = ['ok', 'failed', 'partial'] as const;
/** `ok` is a success; `failed` and `partial` (some files failed) count as failures. */
export type SyncStatus = (typeof SYNC_STATUSES)[number];

/** One sync run of a device. Times are ms since the epoch. */
export interface SyncEventRecord {
  deviceId: string;
  at: number;
  receivedAt: number;
  status: SyncStatus;
  files: number;
  errors: number;
  speed: number | null;
  durationMs: number | null;
  bytesUp: number | null;
  bytesDown: number | null;
  errorMessage: string | null;
}

export interface StoredSyncEvent extends SyncEventRecord {
  id: number;
}

/** A device's sync state: its latest event, its current failure streak and lifetime totals. */
export interface DeviceSyncState {
  deviceId: string;
  lastAt: number;
  lastStatus: SyncStatus;
  lastFiles: number;
  lastErrors: number;
  lastSpeed: number | null;
  lastDurationMs: number | null;
  lastErrorMessage: string | null;
  lastSuccessAt: number | null;
  lastFailureAt: number | null;
  lastFailureMessage: string | null;
  consecutiveFailures: number;
  events: number;
  okEvents: number;
  speedSum: number;
  speedCount: number;
  durationSum: number;
  durationCount: number;
  bytesUp: number;
  bytesDown: number;
  filesTotal: number;
}

/** What a batch did to one device's state. */
export interface BatchOutcome {
  deviceId: string;
  /** The streak after the batch. */
  consecutiveFailures: number;
  /** Failures at the end of this batch's events (after its last success, if any). */
  tail: number;
  /** The batch had a success that reset the streak. */
  reset: boolean;
  /** The batch's events were all older than the device's latest: history only, state untouched. */
  stale: boolean;
}

export interface IngestToken {
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

export interface TelemetryStore {
  /**
   * Stores a batch of events and folds them into each device's state, in order of their timestamps.
   * Not atomic by itself: call it inside `MetaStore.transaction` (group commit). A batch whose
   * events for a device are all older than that device's latest event only adds history.
   */
  record(events: readonly SyncEventRecord[]): Promise<BatchOutcome[]>;
  /** A device's events, newest first; `before` continues after the last event of a previous page. */
  history(
    deviceId: string,
    o: { limit: number; before?: { at: number; id: number } },
  ): Promise<StoredSyncEvent[]>;
  states(deviceIds: readonly string[]): Promise<DeviceSyncState[]>;
  /**
   * Devices whose current streak is at least `min` failures, longest streak first, with the owner
   * and name. `userId` limits it to one user's devices. Reads an index, never the events.
   */
  failing(o: {
    min: number;
    userId?: string;
    limit: number;
    offset: number;
  }): Promise<(DeviceSyncState & { name: string; userId: string })[]>;
  countFailing(min: number): Promise<number>;
  /** Deletes up to `limit` events older than `olderThan`; returns how many. */
  prune(olderThan: number, limit: number): Promise<number>;
  createIngestToken(t: {
    id: string;
    name: string;
    tokenHash: string;
    createdBy: string;
  }): Promise<IngestToken>;
  ingestTokenByHash(tokenHash: string): Promise<IngestToken | undefined>;
  listIngestTokens(): Promise<IngestToken[]>;
  /** False when there is no such token (or it was already revoked). */
  revokeIngestToken(id: string, at: number): Promise<boolean>;
  touchIngestToken(id: string, at: number): Promise<void>;
}

type Row = Record<string, unknown>;

const STATE_COLS = [
  'device_id',
  'last_at',
  'last_status',
  'last_files',
  'last_errors',
  'last_speed',
  'last_duration_ms',
  'last_error_message',
  'last_success_at',
  'last_failure_at',
  'last_failure_message',
  'consecutive_failures',
  'events',
  'ok_events',
  'speed_sum',
  'speed_count',
  'duration_sum',
  'duration_count',
  'bytes_up',
  'bytes_down',
  'files_total',
];
const EVENT_COLS = [
  'dev_no',
  'at',
  'received_at',
  'status',
  'files',
  'errors',
  'speed',
  'duration_ms',
  'bytes_up',
  'bytes_down',
  'error_message',
];

// Multi-row statements come in a few fixed sizes only: few JS↔SQL round trips, and a small, bounded
// set of prepared statements (the driver caches one per distinct SQL text, and a prepared 800-row
// INSERT is large).
const SIZES = [256, 64, 16, 4, 1];

/** Splits `items` into runs of the fixed sizes, largest first. */
function* runs<T>(items: readonly T[]): Generator<T[]> {
  let i = 0;
  for (const size of SIZES) {
    while (items.length - i >= size) {
      yield items.slice(i, i + size);
      i += size;
    }
  }
}

const S = 'device_sync_state';
/** devices.last_seen_at is advanced by sync events only when it is this far behind. */
const SEEN_GRANULARITY_MS = 60_000;
const newer = `(excluded.last_at >= ${S}.last_at)`;
const latest = (c: string) => `${c} = CASE WHEN ${newer} THEN excluded.${c} ELSE ${S}.${c} END`;
const later = (c: string, ...with_: string[]) =>
  [c, ...with_]
    .map(
      (x) =>
        `${x} = CASE WHEN excluded.${c} IS NOT NULL AND (${S}.${c} IS NULL OR excluded.${c} >= ${S}.${c}) THEN excluded.${x} ELSE ${S}.${x} END`,
    )
    .join(', ');
const sum = (c: string) => `${c} = ${S}.${c} + excluded.${c}`;

// The streak: a stale batch leaves it; a batch with a success restarts it at the batch's tail;
// otherwise the batch's failures extend it. `excluded.consecutive_failures` carries the tail and
// `excluded.last_success_at IS NOT NULL` says the batch had a success.
const UPSERT_TAIL = `ON CONFLICT (device_id) DO UPDATE SET
  consecutive_failures = CASE WHEN NOT ${newer} THEN ${S}.consecutive_failures
    WHEN excluded.last_success_at IS NOT NULL THEN excluded.consecutive_failures
    ELSE ${S}.consecutive_failures + excluded.consecutive_failures END,
  ${['last_status', 'last_files', 'last_errors', 'last_speed', 'last_duration_ms', 'last_error_message'].map(latest).join(', ')},
  ${later('last_success_at')}, ${later('last_failure_at', 'last_failure_message')},
  ${['events', 'ok_events', 'speed_sum', 'speed_count', 'duration_sum', 'duration_count', 'bytes_up', 'bytes_down', 'files_total'].map(sum).join(', ')},
  last_at = CASE WHEN ${newer} THEN excluded.last_at ELSE ${S}.last_at END
RETURNING dev_no, device_id, consecutive_failures, last_at`;

const placeholders = (cols: number, rows: number) =>
  Array.from({ length: rows }, () => `(${Array(cols).fill('?').join(', ')})`).join(', ');

const toState = (r: Row): DeviceSyncState => ({
  deviceId: String(r.device_id),
  lastAt: num(r.last_at),
  lastStatus: r.last_status as SyncStatus,
  lastFiles: num(r.last_files),
  lastErrors: num(r.last_errors),
  lastSpeed: numOrNull(r.last_speed),
  lastDurationMs: numOrNull(r.last_duration_ms),
  lastErrorMessage: strOrNull(r.last_error_message),
  lastSuccessAt: numOrNull(r.last_success_at),
  lastFailureAt: numOrNull(r.last_failure_at),
  lastFailureMessage: strOrNull(r.last_failure_message),
  consecutiveFailures: num(r.consecutive_failures),
  events: num(r.events),
  okEvents: num(r.ok_events),
  speedSum: num(r.speed_sum),
  speedCount: num(r.speed_count),
  durationSum: num(r.duration_sum),
  durationCount: num(r.duration_count),
  bytesUp: num(r.bytes_up),
  bytesDown: num(r.bytes_down),
  filesTotal: num(r.files_total),
});

const toEvent = (r: Row): StoredSyncEvent => ({
  id: num(r.id),
  deviceId: String(r.device_id),
  at: num(r.at),
  receivedAt: num(r.received_at),
  status: r.status as SyncStatus,
  files: num(r.files),
  errors: num(r.errors),
  speed: numOrNull(r.speed),
  durationMs: numOrNull(r.duration_ms),
  bytesUp: numOrNull(r.bytes_up),
  bytesDown: numOrNull(r.bytes_down),
  errorMessage: strOrNull(r.error_message),
});

const toToken = (r: Row): IngestToken => ({
  id: String(r.id),
  name: String(r.name),
  createdBy: String(r.created_by),
  createdAt: num(r.created_at),
  lastUsedAt: numOrNull(r.last_used_at),
  revokedAt: numOrNull(r.revoked_at),
});

interface Fold {
  state: SqlValue[];
  outcome: Omit<BatchOutcome, 'consecutiveFailures' | 'stale'>;
  lastAt: number;
}

/** Folds one device's events (sorted by time) into the state row to upsert. */
function fold(deviceId: string, events: SyncEventRecord[]): Fold {
  events.sort((a, b) => a.at - b.at);
  const last = events.at(-1)!;
  let ok = 0;
  let tail = 0;
  let lastSuccess: number | null = null;
  let lastFailure: SyncEventRecord | null = null;
  let speedSum = 0;
  let speedCount = 0;
  let durSum = 0;
  let durCount = 0;
  let up = 0;
  let down = 0;
  let files = 0;
  for (const e of events) {
    if (e.status === 'ok') {
      ok++;
      tail = 0;
      lastSuccess = e.at;
    } else {
      tail++;
      lastFailure = e;
    }
    if (e.speed !== null) {
      speedSum += e.speed;
      speedCount++;
    }
    if (e.durationMs !== null) {
      durSum += e.durationMs;
      durCount++;
    }
    up += e.bytesUp ?? 0;
    down += e.bytesDown ?? 0;
    files += e.files;
  }
  return {
    lastAt: last.at,
    outcome: { deviceId, tail, reset: lastSuccess !== null },
    state: [
      deviceId,
      last.at,
      last.status,
      last.files,
      last.errors,
      last.speed,
      last.durationMs,
      last.errorMessage,
      lastSuccess,
      lastFailure?.at ?? null,
      lastFailure?.errorMessage ?? null,
      tail,
      events.length,
      ok,
      speedSum,
      speedCount,
      durSum,
      durCount,
      up,
      down,
      files,
    ],
  };
}

export class SqlTelemetryStore implements TelemetryStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }

  async record(events: readonly SyncEventRecord[]): Promise<BatchOutcome[]> {
    if (events.length === 0) return [];
    const byDevice = new Map<string, SyncEventRecord[]>();
    for (const e of events) {
      const list = byDevice.get(e.deviceId);
      if (list) list.push(e);
      else byDevice.set(e.deviceId, [e]);
    }
    const folds = [...byDevice].map(([id, list]) => fold(id, list));
    const devNo = new Map<string, number>();
    const outcomes: BatchOutcome[] = [];
    for (const part of runs(folds)) {
      const rows = await this.#db.all<Row>(
        `INSERT INTO ${S} (${STATE_COLS.join(', ')}) VALUES ${placeholders(STATE_COLS.length, part.length)} ${UPSERT_TAIL}`,
        part.flatMap((f) => f.state),
      );
      const byId = new Map(rows.map((r) => [String(r.device_id), r]));
      for (const f of part) {
        const r = byId.get(f.outcome.deviceId)!;
        devNo.set(f.outcome.deviceId, num(r.dev_no));
        const stale = num(r.last_at) > f.lastAt;
        outcomes.push({
          ...f.outcome,
          reset: f.outcome.reset && !stale,
          consecutiveFailures: num(r.consecutive_failures),
          stale,
        });
      }
    }
    // The devices table carries the streak too (and when the device was last heard of). A row is
    // rewritten only when its streak changed or its last_seen_at is over a minute behind: at steady
    // state most devices' rows are left alone, which saves most of the page writes of a batch.
    for (const part of runs(outcomes)) {
      await this.#db.run(
        `WITH v(id, cf, seen) AS (VALUES ${part.map(() => '(?, CAST(? AS BIGINT), CAST(? AS BIGINT))').join(', ')})
         UPDATE devices SET consecutive_failures = v.cf,
           last_seen_at = CASE WHEN devices.last_seen_at IS NULL OR v.seen > devices.last_seen_at THEN v.seen ELSE devices.last_seen_at END
         FROM v WHERE devices.id = v.id AND (devices.consecutive_failures <> v.cf
           OR devices.last_seen_at IS NULL OR v.seen > devices.last_seen_at + ${SEEN_GRANULARITY_MS})`,
        part.flatMap((o) => [
          o.deviceId,
          o.consecutiveFailures,
          Math.min(Date.now(), byDevice.get(o.deviceId)!.at(-1)!.at),
        ]),
      );
    }
    for (const part of runs(events)) {
      await this.#db.run(
        `INSERT INTO sync_events (${EVENT_COLS.join(', ')}) VALUES ${placeholders(EVENT_COLS.length, part.length)}`,
        part.flatMap((e) => [
          devNo.get(e.deviceId)!,
          e.at,
          e.receivedAt,
          e.status,
          e.files,
          e.errors,
          e.speed,
          e.durationMs,
          e.bytesUp,
          e.bytesDown,
          e.errorMessage,
        ]),
      );
    }
    return outcomes;
  }

  async history(
    deviceId: string,
    o: { limit: number; before?: { at: number; id: number } },
  ): Promise<StoredSyncEvent[]> {
    const params: SqlValue[] = [deviceId];
    let cond = '';
    if (o.before) {
      cond = 'AND (e.at < ? OR (e.at = ? AND e.id < ?))';
      params.push(o.before.at, o.before.at, o.before.id);
    }
    params.push(o.limit);
    const rows = await this.#db.all<Row>(
      `SELECT e.*, s.device_id FROM sync_events e JOIN ${S} s ON s.dev_no = e.dev_no
       WHERE e.dev_no = (SELECT dev_no FROM ${S} WHERE device_id = ?) ${cond}
       ORDER BY e.at DESC, e.id DESC LIMIT ?`,
      params,
    );
    return rows.map(toEvent);
  }

  async states(deviceIds: readonly string[]): Promise<DeviceSyncState[]> {
    const out: DeviceSyncState[] = [];
    for (const part of runs(deviceIds)) {
      const rows = await this.#db.all<Row>(
        `SELECT * FROM ${S} WHERE device_id IN (${part.map(() => '?').join(', ')})`,
        part,
      );
      out.push(...rows.map(toState));
    }
    return out;
  }

  async failing(o: {
    min: number;
    userId?: string;
    limit: number;
    offset: number;
  }): Promise<(DeviceSyncState & { name: string; userId: string })[]> {
    const params: SqlValue[] = [o.min];
    if (o.userId) params.push(o.userId);
    params.push(o.limit, o.offset);
    const rows = await this.#db.all<Row>(
      `SELECT s.*, d.name AS device_name, d.user_id AS device_user FROM ${S} s JOIN devices d ON d.id = s.device_id
       WHERE s.consecutive_failures >= ? ${o.userId ? 'AND d.user_id = ?' : ''}
       ORDER BY s.consecutive_failures DESC, s.device_id LIMIT ? OFFSET ?`,
      params,
    );
    return rows.map((r) => ({ ...toState(r), name: String(r.device_name), userId: String(r.device_user) }));
  }

  async countFailing(min: number): Promise<number> {
    return num(
      (await this.#db.get<Row>(`SELECT COUNT(*) AS n FROM ${S} WHERE consecutive_failures >= ?`, [min]))?.n ??
        0,
    );
  }

  async prune(olderThan: number, limit: number): Promise<number> {
    const { changes } = await this.#db.run(
      'DELETE FROM sync_events WHERE id IN (SELECT id FROM sync_events WHERE at < ? ORDER BY at LIMIT ?)',
      [olderThan, limit],
    );
    return changes;
  }

  async createIngestToken(t: {
    id: string;
    name: string;
    tokenHash: string;
    createdBy: string;
  }): Promise<IngestToken> {
    const createdAt = Date.now();
    await uniquely('ingest token', () =>
      this.#db.run(
        'INSERT INTO ingest_tokens (id, name, token_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?)',
        [t.id, t.name, t.tokenHash, t.createdBy, createdAt],
      ),
    );
    return { id: t.id, name: t.name, createdBy: t.createdBy, createdAt, lastUsedAt: null, revokedAt: null };
  }

  async ingestTokenByHash(tokenHash: string): Promise<IngestToken | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM ingest_tokens WHERE token_hash = ?', [tokenHash]);
    return r && toToken(r);
  }

  async listIngestTokens(): Promise<IngestToken[]> {
    return (await this.#db.all<Row>('SELECT * FROM ingest_tokens ORDER BY created_at')).map(toToken);
  }

  async revokeIngestToken(id: string, at: number): Promise<boolean> {
    const { changes } = await this.#db.run(
      'UPDATE ingest_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL',
      [at, id],
    );
    return changes === 1;
  }

  async touchIngestToken(id: string, at: number): Promise<void> {
    await this.#db.run('UPDATE ingest_tokens SET last_used_at = ? WHERE id = ?', [at, id]);
  }
}
