// What the telemetry service remembers of each device that reports: its owner, when it was last
// checked against the database, its failure streak and its latest sync (SPEC: served from memory).
// Struct of arrays: one small integer slot per device indexing typed arrays, owners interned, ids
// in a DeviceIndex, so a fleet of 100,000 devices costs a few bytes per field instead of a few
// objects per device.

import { SYNC_STATUSES, type SyncEventRecord } from '../store/meta/sql-telemetry-store.ts';
import { orNull, putNumbers, type EventValues } from './packed-events.ts';
import { DeviceIndex } from './device-index.ts';

/** Numbers kept of a device's latest event: at, receivedAt, files, errors, speed, durationMs. */
const LATEST = 6;
/** latestStatus values besides a status: not loaded yet, and never reported. */
const UNKNOWN = 255;
const NONE = 254;

export class DeviceTable {
  readonly #max: number;
  readonly #index = new DeviceIndex();
  /** Slots ever used; freed ones are reused first. */
  #next = 0;
  readonly #free: number[] = [];
  /** When each slot's device was added (a counter): the order #forget goes by. */
  #addedAt = new Float64Array(0);
  #added = 0;
  readonly #users: string[] = [];
  readonly #userIndex = new Map<string, number>();
  #user = new Int32Array(0);
  #checkedAt = new Float64Array(0);
  #failures = new Int32Array(0);
  #latest = new Float64Array(0);
  #latestStatus = new Uint8Array(0);
  /** Error messages of the latest events that have one. */
  readonly #latestMessage = new Map<number, string>();

  /** `max`: most devices remembered; beyond it the longest-remembered tenth is forgotten. */
  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#index.size;
  }

  /** The device's slot; a slot is reused after its device is forgotten, so look up again after awaiting. */
  slot(id: string): number | undefined {
    return this.#index.get(id);
  }

  idOf(slot: number): string {
    return this.#index.idOf(slot);
  }

  userOf(slot: number): string {
    return this.#users[this.#user[slot]];
  }

  checkedAt(slot: number): number {
    return this.#checkedAt[slot];
  }

  /** The device's slot, checked (against the database, by the caller) at `now`; added if new. */
  add(id: string, userId: string, now: number): number {
    let slot = this.#index.get(id);
    if (slot !== undefined) {
      this.#checkedAt[slot] = now;
      return slot;
    }
    if (this.#index.size >= this.#max) this.#forget(Math.ceil(this.#max / 10));
    slot = this.#free.pop() ?? this.#next++;
    if (slot >= this.#checkedAt.length) this.#grow();
    let u = this.#userIndex.get(userId);
    if (u === undefined) {
      u = this.#users.push(userId) - 1;
      this.#userIndex.set(userId, u);
    }
    this.#index.set(id, slot);
    this.#addedAt[slot] = this.#added++;
    this.#user[slot] = u;
    this.#checkedAt[slot] = now;
    this.#failures[slot] = -1;
    this.#latestStatus[slot] = UNKNOWN;
    this.#latestMessage.delete(slot);
    return slot;
  }

  /** The streak after the latest batch written, or undefined before the first. */
  failures(slot: number): number | undefined {
    const f = this.#failures[slot];
    return f < 0 ? undefined : f;
  }

  setFailures(slot: number, n: number): void {
    this.#failures[slot] = n;
  }

  /** The newest event accepted; null when the device never reported; undefined when not loaded. */
  latest(slot: number): SyncEventRecord | null | undefined {
    const status = this.#latestStatus[slot];
    if (status === UNKNOWN) return undefined;
    if (status === NONE) return null;
    const l = this.#latest;
    const o = slot * LATEST;
    return {
      deviceId: this.#index.idOf(slot),
      at: l[o],
      receivedAt: l[o + 1],
      status: SYNC_STATUSES[status],
      files: l[o + 2],
      errors: l[o + 3],
      speed: orNull(l[o + 4]),
      durationMs: orNull(l[o + 5]),
      bytesUp: null,
      bytesDown: null,
      errorMessage: this.#latestMessage.get(slot) ?? null,
    };
  }

  /** Takes `e` as the latest event when it is not older than the one remembered (or none is). */
  observe(slot: number, e: EventValues): void {
    const status = this.#latestStatus[slot];
    if (status < NONE && e.at < this.#latest[slot * LATEST]) return;
    this.#setLatest(slot, e);
  }

  /** What the database says is the latest event (null: none), unless one is remembered already. */
  load(slot: number, e: EventValues | null): void {
    if (this.#latestStatus[slot] !== UNKNOWN) return;
    if (e) this.#setLatest(slot, e);
    else this.#latestStatus[slot] = NONE;
  }

  #setLatest(slot: number, e: EventValues): void {
    putNumbers(this.#latest, slot * LATEST, e);
    this.#latestStatus[slot] = e.status;
    if (e.errorMessage === null) this.#latestMessage.delete(slot);
    else this.#latestMessage.set(slot, e.errorMessage);
  }

  /** Forgets the `n` devices remembered longest (a sort of every slot: once per tenth of the table). */
  #forget(n: number): void {
    const free = new Set(this.#free);
    const live: number[] = [];
    for (let s = 0; s < this.#next; s++) if (!free.has(s)) live.push(s);
    live.sort((a, b) => this.#addedAt[a] - this.#addedAt[b]);
    for (const slot of live.slice(0, n)) {
      this.#index.delete(this.#index.idOf(slot));
      this.#latestMessage.delete(slot);
      this.#free.push(slot);
    }
  }

  #grow(): void {
    const n = Math.max(1024, this.#checkedAt.length * 2);
    const grown = <T extends Int32Array | Float64Array | Uint8Array>(
      a: T,
      make: (n: number) => T,
      per = 1,
    ) => {
      const b = make(n * per);
      b.set(a);
      return b;
    };
    this.#user = grown(this.#user, (k) => new Int32Array(k));
    this.#checkedAt = grown(this.#checkedAt, (k) => new Float64Array(k));
    this.#failures = grown(this.#failures, (k) => new Int32Array(k));
    this.#latest = grown(this.#latest, (k) => new Float64Array(k), LATEST);
    this.#latestStatus = grown(this.#latestStatus, (k) => new Uint8Array(k));
    this.#addedAt = grown(this.#addedAt, (k) => new Float64Array(k));
  }
}
