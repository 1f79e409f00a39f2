// How many chunk puts one upload keeps open at once. A put resolves only after the fsync that
// covers it (the pack store's group commit), so the window is what one fsync can cover: 8 puts at a
// time made the bench's 302 MiB first sync ~600 fsyncs of ~16 chunks; a 4 MiB window makes it ~90
// (server CPU -13%, time -11%). The bytes bound the memory an upload holds in chunks not yet on disk.

/** Bytes of chunk data one upload may have in puts not yet acknowledged. */
export const PUT_WINDOW_BYTES = 4 * 1024 * 1024;
const PUT_WINDOW_CHUNKS = 256;

export class PutWindow {
  readonly #open = new Set<Promise<void>>();
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(maxBytes = PUT_WINDOW_BYTES) {
    this.#maxBytes = maxBytes;
  }

  /** Tracks a put of `bytes`; `p` must not reject (the caller records its failure). */
  add(p: Promise<void>, bytes: number): void {
    this.#open.add(p);
    this.#bytes += bytes;
    void p.finally(() => {
      this.#open.delete(p);
      this.#bytes -= bytes;
    });
  }

  /** Resolves once the window has room for another put. */
  async room(): Promise<void> {
    while (this.#bytes >= this.#maxBytes || this.#open.size >= PUT_WINDOW_CHUNKS)
      await Promise.race(this.#open);
  }

  /** Resolves once every tracked put has settled. */
  async drain(): Promise<void> {
    await Promise.all(this.#open);
  }
}
