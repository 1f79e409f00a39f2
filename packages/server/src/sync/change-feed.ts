// The change feed: a space's versions after a cursor, in seq order, paged, with long-poll (hold
// the request until the Notifier says the space advanced) and a resync signal for cursors the feed
// can no longer serve. Also the snapshot of the live tree for a first sync.

import type { MetaStore } from '../store/meta/meta-store.ts';
import type { FileEntry, Version } from '../store/meta/types.ts';
import type { Notifier } from '../store/notify/notifier.ts';

export const MAX_PAGE = 1000;
export const MAX_WAIT_SECONDS = 60;

export interface ChangeItem {
  seq: number;
  fileId: string;
  versionId: string;
  version: number;
  path: string;
  prevPath: string | null;
  kind: 'file' | 'dir';
  size: number;
  contentHash: string | null;
  manifestId: string | null;
  mtime: number;
  deviceId: string | null;
  deleted: boolean;
  opId: string | null;
}

export interface ChangePage {
  changes: ChangeItem[];
  headSeq: number;
  hasMore: boolean;
  /** The `since` for the next call: the last change's seq while hasMore, else headSeq. */
  cursor: number;
  resync?: true;
}

export const changeItem = (v: Version): ChangeItem => ({
  seq: v.seq,
  fileId: v.fileId,
  versionId: v.id,
  version: v.version,
  path: v.path,
  prevPath: v.prevPath,
  kind: v.kind,
  size: v.size,
  contentHash: v.contentHash,
  manifestId: v.manifestId,
  mtime: v.mtime,
  deviceId: v.deviceId,
  deleted: v.deleted,
  opId: v.opId,
});

const snapshotItem = (e: FileEntry): ChangeItem => ({
  seq: e.updatedSeq,
  fileId: e.id,
  versionId: e.versionId,
  version: e.version,
  path: e.path,
  prevPath: null,
  kind: e.kind,
  size: e.size,
  contentHash: e.contentHash,
  manifestId: e.manifestId,
  mtime: e.mtime,
  deviceId: null,
  deleted: false,
  opId: null,
});

export class ChangeFeed {
  readonly #meta: MetaStore;
  readonly #notifier: Notifier;
  readonly #waiters = new Set<() => void>();
  readonly #onCursorError: (e: unknown) => void;
  #closed = false;

  /** `onCursorError`: a device's cursor could not be recorded (the answer went out regardless). */
  constructor(o: { meta: MetaStore; notifier: Notifier; onCursorError?: (e: unknown) => void }) {
    this.#meta = o.meta;
    this.#notifier = o.notifier;
    this.#onCursorError = o.onCursorError ?? (() => undefined);
  }

  async #head(spaceId: string): Promise<number> {
    return (await this.#meta.spaces.byId(spaceId))?.headSeq ?? 0;
  }

  async #page(spaceId: string, since: number, limit: number): Promise<ChangePage> {
    // Head first: every version with seq <= head is committed and visible, so a page that reaches
    // head leaves nothing behind the cursor.
    const headSeq = await this.#head(spaceId);
    if (since > headSeq || since < (await this.#meta.sync.minSeq(spaceId)))
      return { changes: [], headSeq, hasMore: false, cursor: headSeq, resync: true };
    const rows = await this.#meta.files.changes(spaceId, since, limit + 1);
    const inRange = rows.filter((v) => v.seq <= headSeq);
    const hasMore = inRange.length > limit || inRange.length < rows.length;
    const changes = inRange.slice(0, limit).map(changeItem);
    return { changes, headSeq, hasMore, cursor: hasMore ? changes.at(-1)!.seq : headSeq };
  }

  /**
   * Changes after `since`. With nothing newer and `waitMs` > 0, waits for the space to advance
   * (or the timeout, or `signal`) and answers with what arrived.
   */
  async changes(
    spaceId: string,
    o: { since: number; limit?: number; waitMs?: number; deviceId?: string | null; signal?: AbortSignal },
  ): Promise<ChangePage> {
    const limit = Math.min(Math.max(o.limit ?? MAX_PAGE, 1), MAX_PAGE);
    // The cursor only feeds /sync/status. It is written after the page is read and not waited for:
    // its fsync queues behind whatever the disk is writing back (92–112 ms measured right after a
    // device saved a 100 MB file), and reads made after a write wait for it to be durable.
    const record = () => {
      if (o.deviceId)
        this.#meta.sync.setCursor(o.deviceId, spaceId, o.since, Date.now()).catch(this.#onCursorError);
    };
    const waitMs = Math.min(Math.max(o.waitMs ?? 0, 0), MAX_WAIT_SECONDS * 1000);
    if (waitMs === 0 || this.#closed) {
      const page = await this.#page(spaceId, o.since, limit);
      record();
      return page;
    }
    // Subscribe before reading, so a commit between the read and the wait is not missed.
    let wake!: () => void;
    const advanced = new Promise<void>((resolve) => (wake = resolve));
    const unsubscribe = this.#notifier.subscribe(spaceId, (_space, seq) => {
      if (seq > o.since) wake();
    });
    const timer = setTimeout(wake, waitMs);
    this.#waiters.add(wake);
    o.signal?.addEventListener('abort', wake, { once: true });
    try {
      const first = await this.#page(spaceId, o.since, limit);
      record();
      if (first.changes.length > 0 || first.resync) return first;
      await advanced;
      return await this.#page(spaceId, o.since, limit);
    } finally {
      clearTimeout(timer);
      unsubscribe();
      this.#waiters.delete(wake);
      o.signal?.removeEventListener('abort', wake);
    }
  }

  /** The live tree ordered by path, paged by an opaque cursor; headSeq is read before the page. */
  async snapshot(
    spaceId: string,
    o: { limit?: number; cursor?: string },
  ): Promise<{ entries: ChangeItem[]; headSeq: number; cursor: string | null }> {
    const limit = Math.min(Math.max(o.limit ?? MAX_PAGE, 1), MAX_PAGE);
    const headSeq = await this.#head(spaceId);
    const after = o.cursor ? Buffer.from(o.cursor, 'base64url').toString('utf8') : undefined;
    const rows = await this.#meta.files.list(spaceId, '/', { recursive: true, limit: limit + 1, after });
    const more = rows.length > limit;
    const entries = rows.slice(0, limit);
    return {
      entries: entries.map(snapshotItem),
      headSeq,
      cursor: more ? Buffer.from(entries.at(-1)!.path, 'utf8').toString('base64url') : null,
    };
  }

  /** Releases every held long-poll (server shutdown). */
  close(): void {
    this.#closed = true;
    for (const wake of this.#waiters) wake();
  }
}
