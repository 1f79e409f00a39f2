// Sync events packed into columns the moment they are accepted. The ingest queue holds them this way
// (typed arrays, not one object per event, so nothing per event survives V8's young generation while
// it waits for its batch), and a batch crosses to the writer thread as it is, its buffers transferred
// rather than copied. Outcomes come back in columns too.

import {
  SYNC_STATUSES,
  type BatchOutcome,
  type SyncEventRecord,
  type SyncStatus,
} from '../store/meta/sql-telemetry-store.ts';

/** Numbers per event: at, receivedAt, files, errors, speed, durationMs, bytesUp, bytesDown (NaN = null). */
const NUMS = 8;
/** What one event takes in a batch (numbers, status, device index), besides its error message. */
export const EVENT_BYTES = NUMS * 8 + 1 + 4;
/** What an error message is counted as: its UTF-16 code units and a string's own overhead. */
export const messageBytes = (message: string): number => 2 * message.length + 32;

/** A status as stored in a batch: its index in SYNC_STATUSES. */
export const STATUS_CODE = Object.fromEntries(SYNC_STATUSES.map((s, i) => [s, i])) as Readonly<
  Record<SyncStatus, number>
>;
const SEP = '\n';
const nn = (v: number | null) => (v === null ? Number.NaN : v);
/** A stored number back to a nullable one (NaN stands for null). */
export const orNull = (v: number): number | null => (Number.isNaN(v) ? null : v);

/** A batch as it crosses to the writer thread (structured clone; the typed arrays' buffers are transferred). */
export interface PackedBatch {
  length: number;
  /** The batch's devices, each once, joined by a line break (device ids never contain one). */
  devices: string;
  /** Per event: its device, an index into `devices`. */
  device: Int32Array;
  /** Per event NUMS numbers. */
  nums: Float64Array;
  /** Per event its STATUS_CODE. */
  status: Uint8Array;
  /** The error messages of the events at `msgAt`. */
  messages: string[];
  msgAt: number[];
}

/** One sync event's values as ingest has them, the status as its STATUS_CODE. */
export type EventValues = Omit<SyncEventRecord, 'deviceId' | 'status'> & { status: number };

/** Writes at, receivedAt, files, errors, speed and durationMs (NaN for null) from `a[o]` on. */
export function putNumbers(a: Float64Array, o: number, e: EventValues): void {
  a[o] = e.at;
  a[o + 1] = e.receivedAt;
  a[o + 2] = e.files;
  a[o + 3] = e.errors;
  a[o + 4] = nn(e.speed);
  a[o + 5] = nn(e.durationMs);
}

/** Events appended one at a time into growing columns. */
export class SyncEventBatch {
  #length = 0;
  #bytes = 0;
  #ok = 0;
  readonly #ids: string[] = [];
  readonly #index = new Map<string, number>();
  #device: Int32Array;
  #nums: Float64Array;
  #status: Uint8Array;
  readonly #messages: string[] = [];
  readonly #msgAt: number[] = [];

  readonly #limit: number;

  /** Room for `capacity` events at first, growing by doubling up to `limit` (and beyond only if it must). */
  constructor(capacity = 64, limit = Number.POSITIVE_INFINITY) {
    this.#limit = limit;
    this.#device = new Int32Array(capacity);
    this.#nums = new Float64Array(capacity * NUMS);
    this.#status = new Uint8Array(capacity);
  }

  get length(): number {
    return this.#length;
  }

  /** EVENT_BYTES per event plus messageBytes of each error message. */
  get bytes(): number {
    return this.#bytes;
  }

  /** Events with status ok. */
  get ok(): number {
    return this.#ok;
  }

  /** Appends one event of `deviceId`, which must not contain a line break. */
  add(deviceId: string, e: EventValues): void {
    const i = this.#length;
    if (i === this.#status.length) this.#grow();
    let d = this.#index.get(deviceId);
    if (d === undefined) {
      d = this.#ids.length;
      this.#ids.push(deviceId);
      this.#index.set(deviceId, d);
    }
    this.#device[i] = d;
    this.#status[i] = e.status;
    const o = i * NUMS;
    putNumbers(this.#nums, o, e);
    this.#nums[o + 6] = nn(e.bytesUp);
    this.#nums[o + 7] = nn(e.bytesDown);
    this.#bytes += EVENT_BYTES;
    if (e.status === STATUS_CODE.ok) this.#ok++;
    if (e.errorMessage !== null) {
      this.#messages.push(e.errorMessage);
      this.#msgAt.push(i);
      this.#bytes += messageBytes(e.errorMessage);
    }
    this.#length = i + 1;
  }

  /** Appends records (in-process callers and tests). */
  static of(records: readonly SyncEventRecord[]): SyncEventBatch {
    const b = new SyncEventBatch(Math.max(1, records.length));
    for (const e of records) {
      if (e.deviceId.includes(SEP)) throw new Error('a device id with a line break');
      b.add(e.deviceId, { ...e, status: STATUS_CODE[e.status] });
    }
    return b;
  }

  #grow(): void {
    const n = Math.max(this.#length + 1, Math.min(this.#status.length * 2, this.#limit));
    const device = new Int32Array(n);
    device.set(this.#device);
    const nums = new Float64Array(n * NUMS);
    nums.set(this.#nums);
    const status = new Uint8Array(n);
    status.set(this.#status);
    [this.#device, this.#nums, this.#status] = [device, nums, status];
  }

  /**
   * The batch for postMessage, and the buffers to transfer with it: copies of the used part of the
   * columns (one memcpy each), so the batch itself stays whole for a retry of a failed write.
   */
  pack(): { batch: PackedBatch; transfer: ArrayBuffer[] } {
    const n = this.#length;
    const batch: PackedBatch = {
      length: n,
      devices: this.#ids.join(SEP),
      device: this.#device.slice(0, n),
      nums: this.#nums.slice(0, n * NUMS),
      status: this.#status.slice(0, n),
      messages: this.#messages,
      msgAt: this.#msgAt,
    };
    return {
      batch,
      transfer: [batch.device.buffer, batch.nums.buffer, batch.status.buffer] as ArrayBuffer[],
    };
  }

  /** The events as records, in the order they were added (in-process writers). */
  records(): SyncEventRecord[] {
    return unpackBatch(this.pack().batch);
  }
}

/** The events of a packed batch as records, in the order they were added. */
export function unpackBatch(p: PackedBatch): SyncEventRecord[] {
  const ids = p.devices.split(SEP);
  const out = new Array<SyncEventRecord>(p.length);
  for (let i = 0; i < p.length; i++) {
    const o = i * NUMS;
    out[i] = {
      deviceId: ids[p.device[i]],
      at: p.nums[o],
      receivedAt: p.nums[o + 1],
      status: SYNC_STATUSES[p.status[i]],
      files: p.nums[o + 2],
      errors: p.nums[o + 3],
      speed: orNull(p.nums[o + 4]),
      durationMs: orNull(p.nums[o + 5]),
      bytesUp: orNull(p.nums[o + 6]),
      bytesDown: orNull(p.nums[o + 7]),
      errorMessage: null,
    };
  }
  for (let k = 0; k < p.msgAt.length; k++) out[p.msgAt[k]].errorMessage = p.messages[k];
  return out;
}

/** What a batch did, per device: ids joined by a line break; per device consecutiveFailures, tail, flags. */
export interface PackedOutcomes {
  ids: string;
  nums: Float64Array;
}

export function packOutcomes(outcomes: readonly BatchOutcome[]): PackedOutcomes {
  const nums = new Float64Array(outcomes.length * 3);
  outcomes.forEach((o, i) => {
    nums[i * 3] = o.consecutiveFailures;
    nums[i * 3 + 1] = o.tail;
    nums[i * 3 + 2] = (o.reset ? 1 : 0) | (o.stale ? 2 : 0);
  });
  return { ids: outcomes.map((o) => o.deviceId).join(SEP), nums };
}

export function unpackOutcomes(p: PackedOutcomes): BatchOutcome[] {
  if (p.nums.length === 0) return [];
  return p.ids.split(SEP).map((deviceId, i) => ({
    deviceId,
    consecutiveFailures: p.nums[i * 3],
    tail: p.nums[i * 3 + 1],
    reset: (p.nums[i * 3 + 2] & 1) !== 0,
    stale: (p.nums[i * 3 + 2] & 2) !== 0,
  }));
}
