// Sends queued sync reports to the telemetry endpoint. A server without the endpoint (404) keeps
// them queued for later; any other failure also leaves them for the next pass.

import type { FerryClient } from '../api/client.ts';
import { isFerryApiError } from '../api/errors.ts';
import type { StateDb } from './state-db.ts';

export async function flushSyncEvents(client: FerryClient, db: StateDb, max = 50): Promise<number> {
  let sent = 0;
  for (const ev of db.pendingEvents(max)) {
    try {
      await client.transport.json('POST', '/api/v1/sync-events', {
        json: current(ev.body),
        idempotent: false,
      });
    } catch (e) {
      if (isFerryApiError(e) && e.status === 400) {
        db.deleteEvents(ev.id); // malformed for this server: never going to be accepted
        continue;
      }
      return sent;
    }
    db.deleteEvents(ev.id);
    sent++;
  }
  return sent;
}

/**
 * Reports queued by earlier builds of the engine said `status: "success"` and `device_id: null`, which the
 * server refuses (its statuses are ok, failed and partial; a missing device_id means the sender).
 */
function current(body: Record<string, unknown>): Record<string, unknown> {
  const { device_id: deviceId, status, ...rest } = body;
  return {
    ...rest,
    ...(typeof deviceId === 'string' ? { device_id: deviceId } : {}),
    ...(status === undefined ? {} : { status: status === 'success' ? 'ok' : status }),
  };
}
