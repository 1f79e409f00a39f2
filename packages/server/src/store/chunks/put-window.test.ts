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

test('PutWindow.hold: a put counts until the store releases it or it settles, whichever comes first', async () => {
  const w = new PutWindow({ maxPuts: 1 });
  let release = (): void => undefined;
  let settle = (): void => undefined;
  const put = w.hold(10, (released) => {
    release = released;
    return new Promise<void>((resolve) => (settle = resolve));
  });
  assert.equal(await settled(w.room()), false, 'held while the store has the bytes');
  release();
  assert.equal(await settled(w.room()), true, 'released before the put settled');
  const failing = w.hold(10, () => Promise.reject(new Error('disk full')));
  await assert.rejects(failing, /disk full/);
  assert.equal(await settled(w.room()), true, 'a failed put that never released is let go too');
  settle();
  await put;
  w.take(10);
  assert.equal(await settled(w.room()), false, 'settling after the release did not free a place twice');
});
