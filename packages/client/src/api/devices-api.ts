// The user's devices and their sync telemetry.

import type { Transport } from './transport.ts';
import type { Device, FailingDevice, SyncEvent } from './types.ts';

export class DevicesApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  async list(): Promise<Device[]> {
    return (await this.#t.json<{ devices: Device[] }>('GET', '/api/v1/devices')).devices;
  }

  revoke(id: string): Promise<void> {
    return this.#t.json('DELETE', `/api/v1/devices/${encodeURIComponent(id)}`);
  }

  /** Recent sync runs of a device, newest first. */
  async syncHistory(
    id: string,
    o: { limit?: number; cursor?: string } = {},
  ): Promise<{ events: SyncEvent[]; cursor: string | null }> {
    const page = await this.#t.json<{ events: WireSyncEvent[]; cursor?: string | null }>(
      'GET',
      `/api/v1/devices/${encodeURIComponent(id)}/sync-history`,
      { query: { limit: o.limit, cursor: o.cursor } },
    );
    return { events: page.events.map(fromWire), cursor: page.cursor ?? null };
  }

  async repeatedFailures(): Promise<FailingDevice[]> {
    return (await this.#t.json<{ devices: FailingDevice[] }>('GET', '/api/v1/devices/repeated-failures'))
      .devices;
  }
}

/** A sync event as the server sends it (the telemetry API keeps the reporters' snake_case). */
interface WireSyncEvent {
  id: number | string;
  device_id: string;
  timestamp: string;
  status: SyncEvent['status'];
  total_files_synced: number;
  total_errors: number;
  internet_speed: number | null;
  duration_ms: number | null;
  bytes_up: number | null;
  bytes_down: number | null;
  error_message: string | null;
}

function fromWire(e: WireSyncEvent): SyncEvent {
  return {
    id: String(e.id),
    deviceId: e.device_id,
    timestamp: Date.parse(e.timestamp),
    filesSynced: e.total_files_synced,
    errors: e.total_errors,
    bytesUp: e.bytes_up,
    bytesDown: e.bytes_down,
    durationMs: e.duration_ms,
    speed: e.internet_speed,
    status: e.status,
    errorMessage: e.error_message,
  };
}
