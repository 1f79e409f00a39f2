// A bounded in-memory write queue with group commit: items accepted while one batch commits go
// into the next batch, so the write rate adapts to load with one transaction (one fsync) per batch.
// Items are appended straight into batches (the caller's packed columns), and the bound is in bytes
// of those batches, so what the queue may hold is a number of bytes whatever the items are like.
// `offer` refuses when full (the caller answers 503); `close` drains everything accepted.

/** Where items are appended: a batch knows its item count and its size. */
export interface QueueBatch {
  readonly length: number;
  readonly bytes: number;
}

export interface IngestQueueOptions<B extends QueueBatch> {
  /** Most bytes held at once (the batches' `bytes`), counting the batch being written. */
  capacityBytes: number;
  /** Most items per batch (per commit). */
  maxBatch: number;
  /** A new, empty batch. */
  newBatch: () => B;
  /** Writes one batch atomically; a throw retries the batch after a backoff. */
  commit: (batch: B) => Promise<void>;
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

export class IngestQueue<B extends QueueBatch> {
  readonly #o: Required<Omit<IngestQueueOptions<B>, 'onError'>> & Pick<IngestQueueOptions<B>, 'onError'>;
  /** Batches waiting; the last one takes new items until it is full or taken. */
  #waiting: B[] = [];
  #flight: B | undefined;
  #bytes = 0;
  #accepted = 0;
  #done = 0;
  #running = false;
  #closed = false;
  #waiters: { upTo: number; resolve: () => void }[] = [];
  #hurry: (() => void) | undefined;

  constructor(o: IngestQueueOptions<B>) {
    if (o.capacityBytes < 1 || o.maxBatch < 1)
      throw new RangeError('capacityBytes and maxBatch must be at least 1');
    this.#o = { maxAttempts: 5, lingerMs: 0, ...o };
  }

  /** Items accepted and not yet written. */
  get depth(): number {
    return this.#accepted - this.#done;
  }

  /** Bytes of the items accepted and not yet written. */
  get bytes(): number {
    return this.#bytes;
  }

  /** A batch is being committed now (the writer is busy: under load, nearly always). */
  get writing(): boolean {
    return this.#flight !== undefined;
  }

  /**
   * Accepts `count` items of `bytes` in all, or none: false when they do not fit (or the queue is
   * closed). When they fit, `append` is called at once with the batch to append them to, and must
   * append exactly those (count ≤ maxBatch; they all go into one batch).
   */
  offer(count: number, bytes: number, append: (batch: B) => void): boolean {
    if (this.#closed || this.#bytes + bytes > this.#o.capacityBytes) return false;
    let open = this.#waiting.at(-1);
    if (open === undefined || (open.length > 0 && open.length + count > this.#o.maxBatch))
      this.#waiting.push((open = this.#o.newBatch()));
    const before = open.bytes;
    append(open);
    this.#bytes += open.bytes - before;
    this.#accepted += count;
    if (this.#batchFull()) this.#hurry?.();
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

  /** The first waiting batch is full (or a full one is queued behind it): no reason to linger. */
  #batchFull(): boolean {
    return this.#waiting.length > 1 || this.#waiting[0].length >= this.#o.maxBatch;
  }

  /** Lets more items arrive: one turn of the event loop, or up to lingerMs for a partial batch. */
  #gather(): Promise<void> {
    const full = this.#batchFull() || this.#waiters.length > 0 || this.#closed;
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
    while (this.#waiting.length > 0) {
      await this.#gather();
      const batch = this.#waiting.shift()!;
      this.#flight = batch;
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
      this.#flight = undefined;
      this.#bytes -= batch.bytes;
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
