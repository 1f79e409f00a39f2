import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BandwidthLimiter, parseRate, type Clock } from './bandwidth-limiter.ts';

function fakeClock(): Clock & { t: number } {
  const c = {
    t: 0,
    now: () => c.t,
    sleep: async (ms: number) => {
      c.t += ms;
    },
  };
  return c;
}

void test('a token bucket spaces transfers at the configured rate', async () => {
  const clock = fakeClock();
  const lim = new BandwidthLimiter(100 * 1024, clock);
  // The first second's worth passes at once (burst), the rest at 100 KiB/s.
  for (let i = 0; i < 10; i++) await lim.take(10 * 1024);
  assert.equal(clock.t, 0);
  for (let i = 0; i < 20; i++) await lim.take(10 * 1024);
  assert.ok(clock.t >= 1900 && clock.t <= 2100, `took ${clock.t} ms`);
});

void test('rate 0 is unlimited and rates parse with units', async () => {
  const lim = new BandwidthLimiter(0);
  await lim.take(1e12);
  assert.equal(parseRate('500k'), 512000);
  assert.equal(parseRate('2M'), 2 * 1024 * 1024);
  assert.equal(parseRate('1.5MiB'), 1.5 * 1024 * 1024);
  assert.equal(parseRate(undefined), 0);
  assert.throws(() => parseRate('fast'));
});
