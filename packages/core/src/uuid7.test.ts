import assert from 'node:assert/strict';
import { test } from 'node:test';
import { uuid7, uuid7Time } from './uuid7.ts';

const FORMAT = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

test('a uuid7 has the RFC 9562 version and variant and carries its millisecond', () => {
  const before = Date.now();
  const id = uuid7();
  const after = Date.now();
  assert.match(id, FORMAT);
  const at = uuid7Time(id);
  assert.ok(at >= before && at <= after + 1, `${at} not in [${before}, ${after}]`);
  // A millisecond after every id so far is carried as given (all 48 bits of it).
  const later = Date.now() + 60_000;
  assert.equal(uuid7Time(uuid7(later)), later);
});

test('ids made one after another sort in the order they were made, and never repeat', () => {
  // Far more than 4,096 in one millisecond: the counter runs out and borrows the next millisecond.
  const ids = Array.from({ length: 20_000 }, () => uuid7());
  for (let i = 1; i < ids.length; i++) assert.ok(ids[i - 1] < ids[i], `${ids[i - 1]} !< ${ids[i]}`);
  assert.equal(new Set(ids).size, ids.length);
  for (const id of ids) assert.match(id, FORMAT);
});

test('a clock that goes back does not break the order', () => {
  const a = uuid7(Date.now() + 5_000);
  const b = uuid7(Date.now() - 60_000);
  assert.ok(a < b);
  assert.match(b, FORMAT);
});

test('the random part differs between ids of the same millisecond', () => {
  const t = Date.now() + 10_000;
  const tails = new Set(Array.from({ length: 1_000 }, () => uuid7(t).slice(19)));
  assert.equal(tails.size, 1_000);
});
