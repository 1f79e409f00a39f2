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

  syncHistory(
    id: string,
    o: { limit?: number; cursor?: string } = {},
  ): Promise<{ events: SyncEvent[]; cursor?: string | null }> {
    return this.#t.json('GET', `/api/v1/devices/${encodeURIComponent(id)}/sync-history`, {
      query: { limit: o.limit, cursor: o.cursor },
    });
  }

  async repeatedFailures(): Promise<FailingDevice[]> {
    return (await this.#t.json<{ devices: FailingDevice[] }>('GET', '/api/v1/devices/repeated-failures'))
      .devices;
  }
}
