// Counts failed logins per key (account, IP) in a sliding window; over the limit, logins are refused
// with RATE_LIMITED until the oldest failure ages out. In memory: each instance throttles on its own.

import { FerryError } from '@ferry/core/errors';

export class LoginThrottle {
  readonly #failures = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;

  constructor(limit: number, windowMs = 15 * 60_000) {
    this.#limit = limit;
    this.#windowMs = windowMs;
  }

  #recent(key: string, now: number): number[] {
    const list = (this.#failures.get(key) ?? []).filter((t) => now - t < this.#windowMs);
    if (list.length === 0) this.#failures.delete(key);
    else this.#failures.set(key, list);
    return list;
  }

  /** Throws RATE_LIMITED when any key is over its limit. `limits` scales the limit per key. */
  check(keys: { key: string; factor?: number }[], now = Date.now()): void {
    for (const { key, factor = 1 } of keys) {
      const list = this.#recent(key, now);
      if (list.length >= this.#limit * factor) {
        const retryAfter = Math.ceil((list[0] + this.#windowMs - now) / 1000);
        throw new FerryError('RATE_LIMITED', 'too many failed logins; try again later', { retryAfter });
      }
    }
  }

  fail(keys: string[], now = Date.now()): void {
    for (const key of keys) this.#failures.set(key, [...this.#recent(key, now), now]);
  }

  succeed(key: string): void {
    this.#failures.delete(key);
  }
}
