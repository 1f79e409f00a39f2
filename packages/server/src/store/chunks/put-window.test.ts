import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PutWindow } from './put-window.ts';

test('a put window admits puts until their bytes reach the bound, and drains', async () => {
  const w = new PutWindow(100);
  const done: (() => void)[] = [];
  const put = () =>
    new Promise<void>((r) => {
      done.push(r);
    });
  w.add(put(), 60);
  await w.room(); // 60 < 100: room at once
  w.add(put(), 60);
  let roomy = false;
  const room = w.room().then(() => (roomy = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(roomy, false, '120 bytes open: no room');
  done[0]();
  await room;
  assert.equal(roomy, true, 'room once the first put settled');
  let drained = false;
  const drain = w.drain().then(() => (drained = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false);
  done[1]();
  await drain;
});
