// DeviceTable: slots per device, the latest event kept only when not older, a database row never
// overriding an accepted event, and forgetting the longest-remembered devices when full.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { DeviceTable } from './device-table.ts';
import type { EventValues } from './packed-events.ts';

const ev = (at: number, o: Partial<EventValues> = {}): EventValues => ({
  status: 0,
  at,
  receivedAt: at + 1,
  files: 3,
  errors: 0,
  speed: null,
  durationMs: 900,
  bytesUp: 10,
  bytesDown: 20,
  errorMessage: null,
  ...o,
});

void it('keeps the newest event of each device, from memory', () => {
  const t = new DeviceTable(100);
  const a = t.add('a', 'u1', 1000);
  const b = t.add('b', 'u2', 1000);
  assert.equal(t.add('a', 'u1', 2000), a, 'one slot per device');
  assert.equal(t.checkedAt(a), 2000);
  assert.equal(t.userOf(b), 'u2');
  assert.equal(t.latest(a), undefined, 'not loaded');
  t.observe(a, ev(50, { status: 1, errors: 2, errorMessage: 'disk full', speed: 1.5 }));
  t.observe(a, ev(40));
  assert.deepEqual(t.latest(a), {
    deviceId: 'a',
    at: 50,
    receivedAt: 51,
    status: 'failed',
    files: 3,
    errors: 2,
    speed: 1.5,
    durationMs: 900,
    bytesUp: null,
    bytesDown: null,
    errorMessage: 'disk full',
  });
  t.load(a, ev(10));
  assert.equal(t.latest(a)?.at, 50, 'an accepted event wins over the database row');
  t.observe(a, ev(60));
  assert.equal(t.latest(a)?.errorMessage, null);
  t.load(b, null);
  assert.equal(t.latest(b), null, 'never reported');
  t.observe(b, ev(5));
  assert.equal(t.latest(b)?.at, 5);
  assert.equal(t.failures(b), undefined);
  t.setFailures(b, 4);
  assert.equal(t.failures(b), 4);
});

void it('forgets the longest-remembered tenth when full and reuses their slots', () => {
  const t = new DeviceTable(2000);
  for (let i = 0; i < 2000; i++) t.observe(t.add(`d${i}`, 'u', 0), ev(i, { errorMessage: `m${i}` }));
  assert.equal(t.size, 2000);
  const slot = t.add('new', 'u', 0);
  assert.equal(t.size, 1801);
  assert.equal(t.slot('d0'), undefined);
  assert.equal(t.slot('d199'), undefined);
  assert.equal(t.latest(t.slot('d200')!)?.errorMessage, 'm200');
  assert.ok(slot < 2000, 'a freed slot');
  assert.equal(t.idOf(slot), 'new');
  assert.equal(t.latest(slot), undefined, 'nothing of the forgotten device');
  assert.equal(t.failures(slot), undefined);
});
