// A FIFO async mutex: run(fn) waits for every earlier holder to finish.

export class Mutex {
  #tail: Promise<void> = Promise.resolve();
  #holders = 0;

  get locked(): boolean {
    return this.#holders > 0;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    this.#holders++;
    const prev = this.#tail;
    let release!: () => void;
    this.#tail = new Promise<void>((r) => (release = r));
    try {
      await prev;
      return await fn();
    } finally {
      this.#holders--;
      release();
    }
  }
}
