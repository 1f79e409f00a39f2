// The columnar form a batch takes to the writer thread and back: lossless, nulls included.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { packBatch, packOutcomes, unpackBatch, unpackOutcomes } from './telemetry-writer.ts';
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
      ...({} as SyncEventRecord),
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
  assert.deepEqual(unpackBatch(structuredClone(packBatch(batch))), batch);
  const outcomes: BatchOutcome[] = [
    { deviceId: 'a', consecutiveFailures: 0, tail: 0, reset: true, stale: false },
    { deviceId: 'b-é', consecutiveFailures: 4, tail: 2, reset: false, stale: true },
  ];
  assert.deepEqual(unpackOutcomes(structuredClone(packOutcomes(outcomes))), outcomes);
  assert.deepEqual(unpackOutcomes(packOutcomes([])), []);
});
