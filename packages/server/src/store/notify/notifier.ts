// Notifier: "space S advanced to seq N" between the commit path and realtime subscribers.
// In-process by default; a PostgreSQL LISTEN/NOTIFY implementation crosses server instances.
// publish() never throws for a subscriber's failure; subscribe() returns its unsubscribe function.

export type SpaceListener = (spaceId: string, seq: number) => void;

export interface Notifier {
  publish(spaceId: string, seq: number): Promise<void>;
  /** Listens to one space, or to all spaces with '*'. */
  subscribe(spaceId: string, fn: SpaceListener): () => void;
  close(): Promise<void>;
}

export class MemoryNotifier implements Notifier {
  readonly #listeners = new Map<string, Set<SpaceListener>>();

  async publish(spaceId: string, seq: number): Promise<void> {
    for (const key of [spaceId, '*']) {
      for (const fn of this.#listeners.get(key) ?? []) {
        try {
          fn(spaceId, seq);
        } catch {
          /* one subscriber's failure must not stop the others */
        }
      }
    }
  }

  subscribe(spaceId: string, fn: SpaceListener): () => void {
    let set = this.#listeners.get(spaceId);
    if (!set) this.#listeners.set(spaceId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (set.size === 0) this.#listeners.delete(spaceId);
    };
  }

  async close(): Promise<void> {
    this.#listeners.clear();
  }
}
