// The memory one upload may pin in a ChunkStore: puts are counted from put() until the store lets
// go of their bytes (PutOptions.released, or the put settling), and the upload waits for room
// before it hands over the next chunk.

export class PutWindow {
  readonly #maxPuts: number;
  readonly #maxBytes: number;
  #puts = 0;
  #bytes = 0;
  #wake: (() => void) | undefined;

  constructor({ maxPuts, maxBytes = Number.POSITIVE_INFINITY }: { maxPuts: number; maxBytes?: number }) {
    this.#maxPuts = maxPuts;
    this.#maxBytes = maxBytes;
  }

  /** Counts one put that pins `cost` bytes; the answer lets it go (calling it again does nothing). */
  take(cost: number): () => void {
    this.#puts++;
    this.#bytes += cost;
    let holding = true;
    return () => {
      if (!holding) return;
      holding = false;
      this.#puts--;
      this.#bytes -= cost;
      this.#wake?.();
    };
  }

  /**
   * Runs `put` with a `released` callback for PutOptions and counts it until the store calls that,
   * or until the put settles, whichever comes first.
   */
  hold<T>(cost: number, put: (released: () => void) => Promise<T>): Promise<T> {
    const release = this.take(cost);
    return put(release).finally(release);
  }

  /** Resolves once there is room for another put. */
  async room(): Promise<void> {
    while (this.#puts >= this.#maxPuts || this.#bytes >= this.#maxBytes)
      await new Promise<void>((resolve) => (this.#wake = resolve));
    this.#wake = undefined;
  }
}
