// DeviceIndex: UUIDs in typed arrays behind an open-addressing table, other ids in a Map; checked
// against a Map through inserts, deletes (backward shift) and growth.

import { it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { DeviceIndex, formatUuid, parseUuid } from './device-index.ts';

void it('parses and formats lowercase UUIDs only', () => {
  const q = new Uint32Array(4);
  for (let i = 0; i < 1000; i++) {
    const id = randomUUID();
    assert.ok(parseUuid(id, q));
    assert.equal(formatUuid(q, 0), id);
  }
  assert.ok(parseUuid('00000000-0000-0000-0000-000000000000', q));
  assert.equal(formatUuid(q, 0), '00000000-0000-0000-0000-000000000000');
  for (const bad of [
    'D3E4C343-162F-4C41-B101-DB605BC7A259',
    'd3e4c343-162f-4c41-b101-db605bc7a25',
    'd3e4c343-162f-4c41-b101-db605bc7a2599',
    'd3e4c343_162f-4c41-b101-db605bc7a259',
    'g3e4c343-162f-4c41-b101-db605bc7a259',
    'd3e4c343-162f-4c41-b101-db605bc7a25é',
    'dev-1',
    '',
  ])
    assert.equal(parseUuid(bad, q), false, bad);
});

void it('finds what a Map would through inserts, deletes and growth', () => {
  const index = new DeviceIndex();
  const model = new Map<string, number>();
  const free: number[] = [];
  let next = 0;
  let seed = 7;
  const rand = (n: number) => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % n;
  const ids = Array.from({ length: 30_000 }, (_, i) => (i % 10 === 0 ? `device-${i}` : randomUUID()));
  for (let round = 0; round < 60_000; round++) {
    const id = ids[rand(ids.length)];
    if (model.has(id) && rand(3) === 0) {
      free.push(model.get(id)!);
      model.delete(id);
      index.delete(id);
    } else if (!model.has(id)) {
      const slot = free.pop() ?? next++;
      model.set(id, slot);
      index.set(id, slot);
    }
  }
  assert.equal(index.size, model.size);
  for (const id of ids) assert.equal(index.get(id), model.get(id), id);
  for (const [id, slot] of model) assert.equal(index.idOf(slot), id);
  assert.equal(index.get(randomUUID()), undefined);
  assert.equal(index.get(ids[1].toUpperCase()), undefined, 'an uppercase id is another id');
  for (const id of model.keys()) index.delete(id);
  assert.equal(index.size, 0);
  for (const id of ids) assert.equal(index.get(id), undefined);
});
