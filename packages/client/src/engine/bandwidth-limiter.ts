// Token-bucket bandwidth limit: `take(n)` resolves when n bytes may pass. One bucket per direction,
// shared by every transfer of an engine; a rate of 0 means unlimited. Bursts up to one second's worth.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

export class BandwidthLimiter {
  readonly bytesPerSecond: number;
  readonly #clock: Clock;
  readonly #burst: number;
  #tokens: number;
  #last: number;
  #queue: Promise<void> = Promise.resolve();

  constructor(bytesPerSecond: number, clock: Clock = realClock) {
    this.bytesPerSecond = bytesPerSecond;
    this.#clock = clock;
    this.#burst = Math.max(bytesPerSecond, 64 * 1024);
    this.#tokens = this.#burst;
    this.#last = clock.now();
  }

  get unlimited(): boolean {
    return !(this.bytesPerSecond > 0);
  }

  /** Waits until `bytes` fit the rate; callers queue in order so none starves. */
  take(bytes: number): Promise<void> {
    if (this.unlimited || bytes <= 0) return Promise.resolve();
    const turn = this.#queue.then(() => this.#wait(bytes));
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  async #wait(bytes: number): Promise<void> {
    for (;;) {
      const now = this.#clock.now();
      this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) * this.bytesPerSecond) / 1000);
      this.#last = now;
      // A request larger than the bucket goes once the bucket is full, then leaves a debt.
      const need = Math.min(bytes, this.#burst);
      if (this.#tokens >= need) {
        this.#tokens -= bytes;
        return;
      }
      await this.#clock.sleep(Math.ceil(((need - this.#tokens) * 1000) / this.bytesPerSecond));
    }
  }
}

/** Parses "500k", "2M", "1.5MiB", "0" (unlimited) into bytes per second. */
export function parseRate(s: string | undefined): number {
  if (!s) return 0;
  const m = /^\s*([\d.]+)\s*([kmg]?)(i?b)?(\/s)?\s*$/i.exec(s);
  if (!m) throw new Error(`bad rate "${s}" (use e.g. 500k, 2M)`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Math.round(Number(m[1]) * mult);
}
