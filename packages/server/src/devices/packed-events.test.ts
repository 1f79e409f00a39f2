// The columnar form events are queued in and cross to the writer thread in, and outcomes come back
// in: lossless, nulls included; sizes counted in bytes; a packed batch leaves the batch whole.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import {
  EVENT_BYTES,
  SyncEventBatch,
  messageBytes,
  packOutcomes,
  unpackBatch,
  unpackOutcomes,
} from './packed-events.ts';
import type { BatchOutcome, SyncEventRecord } from '../store/meta/sql-telemetry-store.ts';

void it('packs and unpacks batches and outcomes without loss', () => {
  const batch: SyncEventRecord[] = [
    {
      deviceId: 'a',
      at: 1_700_000_000_123,
      receivedAt: 1_700_000_000_456,
      status: 'ok',
      files: 3,
      errors: 0,
      speed: 12.5,
      durationMs: 900,
      bytesUp: 2 ** 40,
      bytesDown: 0,
      errorMessage: null,
    },
    {
      deviceId: 'b-é',
      at: 1,
      receivedAt: 2,
      status: 'partial',
      files: 0,
      errors: 7,
      speed: null,
      durationMs: null,
      bytesUp: null,
      bytesDown: null,
      errorMessage: 'disk full ✗',
    },
    {
      deviceId: 'c',
      at: 5,
      receivedAt: 5,
      status: 'failed',
      files: 1,
      errors: 1,
      speed: 0,
      durationMs: 0,
      bytesUp: 1,
      bytesDown: 1,
      errorMessage: '',
    },
  ];
  const packed = SyncEventBatch.of(batch);
  assert.equal(packed.length, 3);
  assert.equal(packed.ok, 1);
  assert.equal(packed.bytes, 3 * EVENT_BYTES + messageBytes('disk full ✗') + messageBytes(''));
  const { batch: wire, transfer } = packed.pack();
  assert.deepEqual(unpackBatch(structuredClone(wire, { transfer })), batch);
  assert.deepEqual(packed.records(), batch, 'still whole after its copy was transferred');
  const outcomes: BatchOutcome[] = [
    { deviceId: 'a', consecutiveFailures: 0, tail: 0, reset: true, stale: false },
    { deviceId: 'b-é', consecutiveFailures: 4, tail: 2, reset: false, stale: true },
  ];
  assert.deepEqual(unpackOutcomes(structuredClone(packOutcomes(outcomes))), outcomes);
  assert.deepEqual(unpackOutcomes(packOutcomes([])), []);
});

void it('grows its columns and names each device once', () => {
  const b = new SyncEventBatch(2, 50);
  const e = (deviceId: string, at: number): SyncEventRecord => ({
    deviceId,
    at,
    receivedAt: at,
    status: 'ok',
    files: 1,
    errors: 0,
    speed: null,
    durationMs: null,
    bytesUp: null,
    bytesDown: null,
    errorMessage: null,
  });
  const records = Array.from({ length: 100 }, (_, i) => e(`d${i % 7}`, i));
  for (const r of records) b.add(r.deviceId, { ...r, status: 0 });
  assert.equal(b.pack().batch.devices.split('\n').length, 7);
  assert.deepEqual(b.records(), records);
});
