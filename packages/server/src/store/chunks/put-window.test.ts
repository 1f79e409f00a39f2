import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PutWindow } from './put-window.ts';

/** Whether `p` has settled after the pending callbacks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true));
  await new Promise((r) => setImmediate(r));
  return done;
}

test('PutWindow: room waits while the puts or the bytes are at their limit; a release counts once', async () => {
  const w = new PutWindow({ maxPuts: 2, maxBytes: 100 });
  const a = w.take(10);
  assert.equal(await settled(w.room()), true, 'one put of two: room');
  const b = w.take(10);
  const full = w.room();
  assert.equal(await settled(full), false, 'two puts of two: no room');
  b();
  b(); // a second call must not free a second place
  assert.equal(await settled(full), true);
  const c = w.take(10);
  assert.equal(await settled(w.room()), false, 'a released twice still counts b as gone, not a');
  a();
  c();
  const big = w.take(100);
  assert.equal(await settled(w.room()), false, '100 bytes of 100: no room, with places left');
  big();
  assert.equal(await settled(w.room()), true);
});
