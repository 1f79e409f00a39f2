// A tiny in-process bus for domain events (device.failing, …). Feeds, webhooks and the realtime
// channel subscribe to it; a listener that throws is isolated from the emitter and other listeners.

export interface DomainEvents {
  /** A device's third consecutive sync failed (emitted once per failure streak). */
  'device.failing': {
    deviceId: string;
    userId: string;
    name: string;
    consecutiveFailures: number;
    lastError: string | null;
    at: number;
  };
  /** A sync commit kept both sides of a conflict: `conflictPath` holds the side that lost the path. */
  'conflict.detected': {
    spaceId: string;
    path: string;
    conflictPath: string;
    fileId: string;
    conflictFileId: string;
    at: number;
  };
  /** A device that was failing synced successfully again. */
  'device.recovered': { deviceId: string; userId: string; name: string; at: number };
}

export type DomainEventType = keyof DomainEvents;
type Listener<K extends DomainEventType> = (payload: DomainEvents[K], type: K) => void;

export class EventBus {
  readonly #listeners = new Map<DomainEventType, Set<Listener<never>>>();
  readonly #onError: (e: unknown, type: DomainEventType) => void;

  constructor(o: { onError?: (e: unknown, type: DomainEventType) => void } = {}) {
    this.#onError = o.onError ?? (() => undefined);
  }

  /** Subscribes; returns the unsubscribe function. */
  on<K extends DomainEventType>(type: K, fn: Listener<K>): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(fn);
    return () => set.delete(fn);
  }

  emit<K extends DomainEventType>(type: K, payload: DomainEvents[K]): void {
    for (const fn of this.#listeners.get(type) ?? []) {
      try {
        (fn as Listener<K>)(payload, type);
      } catch (e) {
        this.#onError(e, type);
      }
    }
  }
}
