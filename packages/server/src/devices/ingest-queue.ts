// A bounded in-memory write queue with group commit: items accepted while one batch commits go
// into the next batch, so the write rate adapts to load with one transaction (one fsync) per batch.
// `offer` refuses when full (the caller answers 503); `close` drains everything accepted.

export interface IngestQueueOptions<T> {
  /** Most items held at once, counting the batch being written. */
  capacity: number;
  /** Most items per commit. */
  maxBatch: number;
  /** Writes one batch atomically; a throw retries the batch after a backoff. */
  commit: (batch: T[]) => Promise<void>;
  /** Told about a failed commit (and about a batch dropped after `maxAttempts`). */
  onError?: (e: unknown, o: { attempt: number; dropped: number }) => void;
  /** Attempts per batch before it is dropped, so one poison batch cannot stall the queue forever. */
  maxAttempts?: number;
  /**
   * How long a partial batch waits for company before it is written (ms). Each commit costs an
   * fsync whatever its size, so under load a short wait buys far larger batches. `settle()` and
   * `close()` cut the wait short. Default 0.
   */
  lingerMs?: number;
}

export class IngestQueue<T> {
  readonly #o: Required<Omit<IngestQueueOptions<T>, 'onError'>> & Pick<IngestQueueOptions<T>, 'onError'>;
  #items: T[] = [];
  #inFlight = 0;
  #accepted = 0;
  #done = 0;
  #running = false;
  #closed = false;
  #waiters: { upTo: number; resolve: () => void }[] = [];
  #hurry: (() => void) | undefined;

  constructor(o: IngestQueueOptions<T>) {
    if (o.capacity < 1 || o.maxBatch < 1) throw new RangeError('capacity and maxBatch must be at least 1');
    this.#o = { maxAttempts: 5, lingerMs: 0, ...o };
  }

  /** Items accepted and not yet written. */
  get depth(): number {
    return this.#items.length + this.#inFlight;
  }

  /** A batch is being committed now (the writer is busy: under load, nearly always). */
  get writing(): boolean {
    return this.#inFlight > 0;
  }

  get capacity(): number {
    return this.#o.capacity;
  }

  /** Accepts all of `items` or none: false when they do not fit (or the queue is closed). */
  offer(items: readonly T[]): boolean {
    if (this.#closed || this.depth + items.length > this.#o.capacity) return false;
    for (const it of items) this.#items.push(it);
    this.#accepted += items.length;
    if (this.#items.length >= this.#o.maxBatch) this.#hurry?.();
    this.#kick();
    return true;
  }

  /** Resolves once everything accepted before the call is written (or dropped). */
  settle(): Promise<void> {
    if (this.#done >= this.#accepted) return Promise.resolve();
    const p = new Promise<void>((resolve) => this.#waiters.push({ upTo: this.#accepted, resolve }));
    this.#hurry?.();
    return p;
  }

  /** Refuses new items and resolves when everything accepted is written. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#hurry?.();
    await this.settle();
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#run();
  }

  /** Lets more items arrive: one turn of the event loop, or up to lingerMs for a partial batch. */
  #gather(): Promise<void> {
    const full = this.#items.length >= this.#o.maxBatch || this.#waiters.length > 0 || this.#closed;
    return new Promise((resolve) => {
      if (full || this.#o.lingerMs <= 0) return void setImmediate(resolve);
      const timer = setTimeout(() => {
        this.#hurry = undefined;
        resolve();
      }, this.#o.lingerMs);
      this.#hurry = () => {
        clearTimeout(timer);
        this.#hurry = undefined;
        resolve();
      };
    });
  }

  async #run(): Promise<void> {
    while (this.#items.length > 0) {
      await this.#gather();
      const batch = this.#items.splice(0, this.#o.maxBatch);
      this.#inFlight = batch.length;
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#o.commit(batch);
          break;
        } catch (e) {
          const drop = attempt >= this.#o.maxAttempts;
          this.#o.onError?.(e, { attempt, dropped: drop ? batch.length : 0 });
          if (drop) break;
          await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 2000)));
        }
      }
      this.#inFlight = 0;
      this.#done += batch.length;
      this.#wake();
    }
    this.#running = false;
  }

  #wake(): void {
    if (this.#waiters.length === 0) return;
    const ready = this.#waiters.filter((w) => w.upTo <= this.#done);
    this.#waiters = this.#waiters.filter((w) => w.upTo > this.#done);
    for (const w of ready) w.resolve();
  }
}
