// SQL store for fleet telemetry: sync events, each device's incrementally maintained sync state
// (what "repeated failures" and summaries read, so they never scan events) and fleet ingest tokens.

import type { SqlExecutor, SqlValue } from './sql-driver.ts';
import { num, numOrNull, runs, strOrNull, uniquely } from './sql-util.ts';

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

/** A stored event as the writer inserts it: its id and the device's previous event (its chain). */
interface ChainedEvent {
  event: SyncEventRecord;
  id: number;
  prevId: number | null;
}

/** A recorded event's place in its device's chain (see #newerThan). */
interface RecordedLink {
  id: number;
  prevId: number | null;
  at: number;
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
  /** The device's most recently recorded event: the head of its history chain. */
  lastEventId: number | null;
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
  /**
   * A device's events, newest first by timestamp (equal times: the later recorded first); `before`
   * (an event id) continues after the last event of a previous page. An id that is not one of this
   * device's events (pruned, or another device's) gives an empty page.
   */
  history(deviceId: string, o: { limit: number; before?: number }): Promise<StoredSyncEvent[]>;
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
  /**
   * Devices that have reported and are not revoked, with their owners, in pages ordered by dev_no
   * (`after` is the last dev_no of the previous page): what ingest checks reporters against.
   */
  reportingDevices(after: number, limit: number): Promise<{ devNo: number; id: string; userId: string }[]>;
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
  'last_event_id',
];
const EVENT_COLS = [
  'id',
  'prev_id',
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

const S = 'device_sync_state';
/** Most recorded events a late batch is sorted in among (see #newerThan). */
const SPLICE_MAX = 1000;
/** Devices whose state is read, folded and written at once (see record). */
const DEVICE_SLICE = 1024;

const placeholders = (cols: number, rows: number) =>
  Array.from({ length: rows }, () => `(${Array(cols).fill('?').join(', ')})`).join(', ');

// A known device's state is rewritten whole (the batch folded it in JS), keyed by its integer dev_no.
// Rows whose streak did not change leave consecutive_failures out of the SET, so that SQLite does
// not rewrite their entry in the failing-devices index (most rows, most batches).
const stateUpdate = (withStreak: boolean) =>
  `ON CONFLICT (dev_no) DO UPDATE SET ${STATE_COLS.slice(1)
    .filter((c) => withStreak || c !== 'consecutive_failures')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const stateRow = (s: DeviceSyncState): SqlValue[] => [
  s.deviceId,
  s.lastAt,
  s.lastStatus,
  s.lastFiles,
  s.lastErrors,
  s.lastSpeed,
  s.lastDurationMs,
  s.lastErrorMessage,
  s.lastSuccessAt,
  s.lastFailureAt,
  s.lastFailureMessage,
  s.consecutiveFailures,
  s.events,
  s.okEvents,
  s.speedSum,
  s.speedCount,
  s.durationSum,
  s.durationCount,
  s.bytesUp,
  s.bytesDown,
  s.filesTotal,
  s.lastEventId,
];

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
  lastEventId: numOrNull(r.last_event_id),
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

const EMPTY: Omit<DeviceSyncState, 'deviceId'> = {
  lastAt: -Infinity,
  lastStatus: 'ok',
  lastFiles: 0,
  lastErrors: 0,
  lastSpeed: null,
  lastDurationMs: null,
  lastErrorMessage: null,
  lastSuccessAt: null,
  lastFailureAt: null,
  lastFailureMessage: null,
  consecutiveFailures: 0,
  events: 0,
  okEvents: 0,
  speedSum: 0,
  speedCount: 0,
  durationSum: 0,
  durationCount: 0,
  bytesUp: 0,
  bytesDown: 0,
  filesTotal: 0,
  lastEventId: null,
};

/**
 * Folds one device's events into its stored state (`old`, or none yet). Totals always grow; the
 * latest-sync fields and the streak move only when the batch's newest event is not older than the
 * stored one (else the batch is stale: history only). A batch with a success restarts the streak
 * at the failures after its last success; otherwise its failures extend the streak.
 */
function fold(
  deviceId: string,
  events: SyncEventRecord[],
  old: DeviceSyncState | undefined,
): { state: DeviceSyncState; outcome: BatchOutcome } {
  events.sort((a, b) => a.at - b.at);
  const last = events.at(-1)!;
  const s: DeviceSyncState = { ...EMPTY, ...old, deviceId };
  let tail = 0;
  let hadSuccess = false;
  for (const e of events) {
    s.events++;
    if (e.status === 'ok') {
      s.okEvents++;
      tail = 0;
      hadSuccess = true;
      if (s.lastSuccessAt === null || e.at >= s.lastSuccessAt) s.lastSuccessAt = e.at;
    } else {
      tail++;
      if (s.lastFailureAt === null || e.at >= s.lastFailureAt) {
        s.lastFailureAt = e.at;
        s.lastFailureMessage = e.errorMessage;
      }
    }
    if (e.speed !== null) {
      s.speedSum += e.speed;
      s.speedCount++;
    }
    if (e.durationMs !== null) {
      s.durationSum += e.durationMs;
      s.durationCount++;
    }
    s.bytesUp += e.bytesUp ?? 0;
    s.bytesDown += e.bytesDown ?? 0;
    s.filesTotal += e.files;
  }
  const stale = old !== undefined && last.at < old.lastAt;
  if (!stale) {
    s.lastAt = last.at;
    s.lastStatus = last.status;
    s.lastFiles = last.files;
    s.lastErrors = last.errors;
    s.lastSpeed = last.speed;
    s.lastDurationMs = last.durationMs;
    s.lastErrorMessage = last.errorMessage;
    s.consecutiveFailures = hadSuccess ? tail : s.consecutiveFailures + tail;
  }
  return {
    state: s,
    outcome: {
      deviceId,
      consecutiveFailures: s.consecutiveFailures,
      tail,
      reset: hadSuccess && !stale,
      stale,
    },
  };
}

export class SqlTelemetryStore implements TelemetryStore {
  readonly #db: SqlExecutor;
  readonly #dialect: 'sqlite' | 'postgres';
  readonly #lockRows: string;
  /** `dialect` 'postgres' locks the state rows a batch reads (several server instances may write). */
  constructor(db: SqlExecutor, dialect: 'sqlite' | 'postgres' = 'sqlite') {
    this.#db = db;
    this.#dialect = dialect;
    this.#lockRows = dialect === 'postgres' ? 'ORDER BY device_id FOR UPDATE' : '';
  }

  // Each device's state is read once per batch, folded here and written back whole: cheaper for
  // SQLite than an upsert that folds in SQL (measured: about half the writer's CPU per event).
  // Devices go in slices of DEVICE_SLICE, in id order, each slice's events with it: what is alive
  // at once is one slice's rows (the writer thread's heap stays small: a whole 10,000-device batch
  // of state rows outlived V8's young generation), and a slice's events reach the event index in
  // device order.
  async record(events: readonly SyncEventRecord[]): Promise<BatchOutcome[]> {
    const byDevice = new Map<string, SyncEventRecord[]>();
    for (const e of events) {
      const list = byDevice.get(e.deviceId);
      if (list) list.push(e);
      else byDevice.set(e.deviceId, [e]);
    }
    const ids = [...byDevice.keys()].sort();
    const outcomes: BatchOutcome[] = [];
    for (let i = 0; i < ids.length; i += DEVICE_SLICE)
      for (const o of await this.#recordDevices(ids.slice(i, i + DEVICE_SLICE), byDevice)) outcomes.push(o);
    return outcomes;
  }

  async #recordDevices(
    ids: readonly string[],
    byDevice: ReadonlyMap<string, SyncEventRecord[]>,
  ): Promise<BatchOutcome[]> {
    const stored = new Map<string, DeviceSyncState & { devNo: number }>();
    for (const part of runs(ids)) {
      const rows = await this.#db.all<Row>(
        `SELECT * FROM ${S} WHERE device_id IN (${part.map(() => '?').join(', ')}) ${this.#lockRows}`,
        part,
      );
      for (const r of rows) stored.set(String(r.device_id), { ...toState(r), devNo: num(r.dev_no) });
    }
    const devNo = new Map<string, number>();
    const known = { streak: [] as SqlValue[][], same: [] as SqlValue[][] };
    const added: SqlValue[][] = [];
    const streaks: SqlValue[][] = [];
    const outcomes: BatchOutcome[] = [];
    const chained: ChainedEvent[] = [];
    const newIds = await this.#reserveIds(ids.reduce((n, id) => n + byDevice.get(id)!.length, 0));
    for (const id of ids) {
      const old = stored.get(id);
      const events = byDevice.get(id)!;
      const { state, outcome } = fold(id, events, old);
      outcomes.push(outcome);
      // fold sorted the events by timestamp: they join the device's chain in that order, after the
      // events already recorded, or spliced among them when the batch reaches back in time.
      const late = old !== undefined && old.lastEventId !== null && events[0].at < old.lastAt;
      const { anchor, newer } = late
        ? await this.#newerThan(old.lastEventId!, events[0].at)
        : { anchor: state.lastEventId, newer: [] };
      state.lastEventId = await this.#link(events, anchor, newer, newIds, chained);
      const changed = state.consecutiveFailures !== (old?.consecutiveFailures ?? 0);
      if (old) {
        devNo.set(id, old.devNo);
        (changed ? known.streak : known.same).push([old.devNo, ...stateRow(state)]);
      } else added.push(stateRow(state));
      // devices.consecutive_failures mirrors the streak; only rows whose streak changed are written.
      if (changed) streaks.push([id, state.consecutiveFailures]);
    }
    for (const [rows, withStreak] of [
      [known.streak, true],
      [known.same, false],
    ] as const)
      for (const part of runs(rows))
        await this.#db.run(
          `INSERT INTO ${S} (dev_no, ${STATE_COLS.join(', ')}) VALUES ${placeholders(STATE_COLS.length + 1, part.length)} ${stateUpdate(withStreak)}`,
          part.flat(),
        );
    for (const part of runs(added)) {
      const rows = await this.#db.all<Row>(
        `INSERT INTO ${S} (${STATE_COLS.join(', ')}) VALUES ${placeholders(STATE_COLS.length, part.length)} RETURNING dev_no, device_id`,
        part.flat(),
      );
      for (const r of rows) devNo.set(String(r.device_id), num(r.dev_no));
    }
    for (const part of runs(streaks))
      await this.#db.run(
        `WITH v(id, cf) AS (VALUES ${part.map(() => '(?, CAST(? AS BIGINT))').join(', ')})
         UPDATE devices SET consecutive_failures = v.cf FROM v WHERE devices.id = v.id`,
        part.flat(),
      );
    for (const part of runs(chained)) {
      await this.#db.run(
        `INSERT INTO sync_events (${EVENT_COLS.join(', ')}) VALUES ${placeholders(EVENT_COLS.length, part.length)}`,
        part.flatMap(({ event: e, id, prevId }) => [
          id,
          prevId,
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

  /**
   * The recorded events newer than `at`, walking back from the chain's `head` (at most SPLICE_MAX
   * of them: a batch reaching back further goes in after those), oldest first, and the event
   * before them. Only for a batch that reaches back in time: a device that reports out of order.
   */
  async #newerThan(head: number, at: number): Promise<{ anchor: number | null; newer: RecordedLink[] }> {
    const newer: RecordedLink[] = [];
    let anchor: number | null = head;
    while (anchor !== null && newer.length < SPLICE_MAX) {
      const r = await this.#db.get<Row>('SELECT prev_id, at FROM sync_events WHERE id = ?', [anchor]);
      if (!r || num(r.at) <= at) break;
      newer.push({ id: anchor, prevId: numOrNull(r.prev_id), at: num(r.at) });
      anchor = numOrNull(r.prev_id);
    }
    return { anchor, newer: newer.reverse() };
  }

  /**
   * Links a device's new events (sorted by time) into its chain after `anchor`, merged by time with
   * `newer` (recorded events, relinked where their predecessor changes; on equal times the
   * recorded event stays first). Queues the new events in `chained`; returns the new head.
   */
  async #link(
    events: readonly SyncEventRecord[],
    anchor: number | null,
    newer: readonly RecordedLink[],
    newIds: readonly number[],
    chained: ChainedEvent[],
  ): Promise<number> {
    let prev = anchor;
    let i = 0;
    let j = 0;
    while (i < events.length || j < newer.length) {
      if (j < newer.length && (i === events.length || newer[j].at <= events[i].at)) {
        const e = newer[j++];
        if (e.prevId !== prev)
          await this.#db.run('UPDATE sync_events SET prev_id = ? WHERE id = ?', [prev, e.id]);
        prev = e.id;
      } else {
        const id = newIds[chained.length];
        chained.push({ event: events[i++], id, prevId: prev });
        prev = id;
      }
    }
    return prev!;
  }

  /**
   * Ids for `n` new events. SQLite has one writer at a time (this transaction holds the write lock):
   * the next n after the largest. PostgreSQL instances write concurrently: n from the table's sequence.
   */
  async #reserveIds(n: number): Promise<number[]> {
    if (this.#dialect === 'sqlite') {
      const first = num(
        (await this.#db.get<Row>('SELECT COALESCE(MAX(id), 0) + 1 AS id FROM sync_events'))?.id,
      );
      return Array.from({ length: n }, (_, i) => first + i);
    }
    const rows = await this.#db.all<Row>(
      `SELECT nextval(pg_get_serial_sequence('sync_events', 'id')) AS id FROM generate_series(1, CAST(? AS INTEGER))`,
      [n],
    );
    return rows.map((r) => num(r.id));
  }

  async history(deviceId: string, o: { limit: number; before?: number }): Promise<StoredSyncEvent[]> {
    const state = await this.#db.get<Row>(`SELECT dev_no, last_event_id FROM ${S} WHERE device_id = ?`, [
      deviceId,
    ]);
    if (!state) return [];
    const start =
      o.before === undefined
        ? state.last_event_id
        : (
            await this.#db.get<Row>('SELECT prev_id FROM sync_events WHERE id = ? AND dev_no = ?', [
              o.before,
              num(state.dev_no),
            ])
          )?.prev_id;
    if (start === null || start === undefined) return [];
    // Walks the chain by primary key, newest first; a pruned event ends it.
    const rows = await this.#db.all<Row>(
      `WITH RECURSIVE chain(id, n) AS (
         SELECT CAST(? AS BIGINT), 1
         UNION ALL
         SELECT e.prev_id, chain.n + 1 FROM chain JOIN sync_events e ON e.id = chain.id
         WHERE chain.n < ? AND e.prev_id IS NOT NULL
       )
       SELECT e.* FROM chain JOIN sync_events e ON e.id = chain.id ORDER BY chain.n`,
      [num(start), o.limit],
    );
    return rows.map((r) => toEvent({ ...r, device_id: deviceId }));
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

  async reportingDevices(
    after: number,
    limit: number,
  ): Promise<{ devNo: number; id: string; userId: string }[]> {
    const rows = await this.#db.all<Row>(
      `SELECT s.dev_no, d.id, d.user_id FROM ${S} s JOIN devices d ON d.id = s.device_id
       WHERE s.dev_no > ? AND d.revoked_at IS NULL ORDER BY s.dev_no LIMIT ?`,
      [after, limit],
    );
    return rows.map((r) => ({ devNo: num(r.dev_no), id: String(r.id), userId: String(r.user_id) }));
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
