// Wire shapes of fleet telemetry. Sync events keep the seed's snake_case field names in and out, so
// a device reads back exactly what it posts; the rest follows Ferry's camelCase API.

import { Type } from '@sinclair/typebox';
import { Strict } from '../http/schemas.ts';
import type { DeviceSyncState, StoredSyncEvent, SyncEventRecord } from '../store/meta/sql-telemetry-store.ts';

const Status = Type.Union([Type.Literal('ok'), Type.Literal('failed'), Type.Literal('partial')]);
const Count = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

export const SyncEventIn = Strict(
  {
    device_id: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Default: the device of the access token' }),
    ),
    // Integer first: with type coercion on, a string-first union would turn numbers into strings.
    timestamp: Type.Union([
      Type.Integer({ minimum: 0, description: 'ms since the epoch' }),
      Type.String({ maxLength: 40, description: 'ISO 8601' }),
    ]),
    total_files_synced: Count,
    total_errors: Count,
    // One multi-type schema: a union would let type coercion turn null into 0 (or 0 into null).
    internet_speed: Type.Optional(
      Type.Unsafe<number | null>({
        type: ['number', 'null'],
        minimum: 0,
        maximum: 1e9,
        description: 'Mbit/s',
      }),
    ),
    duration_ms: Type.Optional(Count),
    bytes_up: Type.Optional(Count),
    bytes_down: Type.Optional(Count),
    status: Type.Optional(
      Type.Union(Status.anyOf, {
        description: 'Default: ok when total_errors is 0, else failed. partial counts as a failure.',
      }),
    ),
    error_message: Type.Optional(Type.String({ maxLength: 2000 })),
  },
  { description: 'One sync run of a device (the PiSync seed body, plus optional fields)' },
);

export const SyncEventOut = Type.Object(
  {
    id: Type.Integer(),
    device_id: Type.String(),
    timestamp: Type.String({ format: 'date-time' }),
    received_at: Type.String({ format: 'date-time' }),
    status: Type.String(),
    total_files_synced: Type.Integer(),
    total_errors: Type.Integer(),
    internet_speed: Type.Union([Type.Number(), Type.Null()]),
    duration_ms: Type.Union([Type.Integer(), Type.Null()]),
    bytes_up: Type.Union([Type.Integer(), Type.Null()]),
    bytes_down: Type.Union([Type.Integer(), Type.Null()]),
    error_message: Type.Union([Type.String(), Type.Null()]),
  },
  { description: 'A stored sync event, newest first in histories' },
);

export const Accepted = Type.Object({
  accepted: Type.Integer({ description: 'Events queued; they are durable once the queue drains' }),
});

export const History = Type.Object({
  device_id: Type.String(),
  events: Type.Array(SyncEventOut),
  cursor: Type.Union([Type.String(), Type.Null()], { description: 'Pass as ?cursor= for older events' }),
});

export const LastSync = Type.Union([
  Type.Object({
    at: Type.Integer(),
    status: Type.String(),
    files: Type.Integer(),
    errors: Type.Integer(),
    speed: Type.Union([Type.Number(), Type.Null()]),
    durationMs: Type.Union([Type.Integer(), Type.Null()]),
    errorMessage: Type.Union([Type.String(), Type.Null()]),
  }),
  Type.Null(),
]);

export const FailingDevice = Type.Object({
  deviceId: Type.String(),
  name: Type.String(),
  userId: Type.String(),
  consecutiveFailures: Type.Integer(),
  failures: Type.Integer({ description: 'Failed syncs ever reported' }),
  syncs: Type.Integer({ description: 'Syncs ever reported' }),
  lastError: Type.Union([Type.String(), Type.Null()]),
  lastFailureAt: Type.Union([Type.Integer(), Type.Null()]),
  lastSuccessAt: Type.Union([Type.Integer(), Type.Null()]),
  lastSyncAt: Type.Integer(),
});

export const Summary = Type.Object({
  deviceId: Type.String(),
  syncs: Type.Integer(),
  ok: Type.Integer(),
  failed: Type.Integer(),
  successRate: Type.Union([Type.Number(), Type.Null()], { description: '0..1; null before the first sync' }),
  averageSpeed: Type.Union([Type.Number(), Type.Null()]),
  averageDurationMs: Type.Union([Type.Number(), Type.Null()]),
  filesSynced: Type.Integer(),
  bytesUp: Type.Integer(),
  bytesDown: Type.Integer(),
  consecutiveFailures: Type.Integer(),
  lastSuccessAt: Type.Union([Type.Integer(), Type.Null()]),
  lastFailureAt: Type.Union([Type.Integer(), Type.Null()]),
  lastSync: LastSync,
});

const iso = (ms: number) => new Date(ms).toISOString();

export function syncEventOut(e: StoredSyncEvent) {
  return {
    id: e.id,
    device_id: e.deviceId,
    timestamp: iso(e.at),
    received_at: iso(e.receivedAt),
    status: e.status,
    total_files_synced: e.files,
    total_errors: e.errors,
    internet_speed: e.speed,
    duration_ms: e.durationMs,
    bytes_up: e.bytesUp,
    bytes_down: e.bytesDown,
    error_message: e.errorMessage,
  };
}

export function lastSyncOut(e: SyncEventRecord | null | undefined) {
  return e
    ? {
        at: e.at,
        status: e.status,
        files: e.files,
        errors: e.errors,
        speed: e.speed,
        durationMs: e.durationMs,
        errorMessage: e.errorMessage,
      }
    : null;
}

export function failingOut(s: DeviceSyncState & { name: string; userId: string }) {
  return {
    deviceId: s.deviceId,
    name: s.name,
    userId: s.userId,
    consecutiveFailures: s.consecutiveFailures,
    failures: s.events - s.okEvents,
    syncs: s.events,
    lastError: s.lastFailureMessage,
    lastFailureAt: s.lastFailureAt,
    lastSuccessAt: s.lastSuccessAt,
    lastSyncAt: s.lastAt,
  };
}

export function summaryOut(deviceId: string, s: DeviceSyncState | null, last: SyncEventRecord | null) {
  return {
    deviceId,
    syncs: s?.events ?? 0,
    ok: s?.okEvents ?? 0,
    failed: s ? s.events - s.okEvents : 0,
    successRate: s && s.events ? s.okEvents / s.events : null,
    averageSpeed: s && s.speedCount ? s.speedSum / s.speedCount : null,
    averageDurationMs: s && s.durationCount ? s.durationSum / s.durationCount : null,
    filesSynced: s?.filesTotal ?? 0,
    bytesUp: s?.bytesUp ?? 0,
    bytesDown: s?.bytesDown ?? 0,
    consecutiveFailures: s?.consecutiveFailures ?? 0,
    lastSuccessAt: s?.lastSuccessAt ?? null,
    lastFailureAt: s?.lastFailureAt ?? null,
    lastSync: lastSyncOut(last),
  };
}
