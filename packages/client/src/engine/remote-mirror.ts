// Keeps the remote tree in the state db in step with the server's change feed: pulls every page
// since the stored cursor and applies it in one transaction per page; on `resync` it rebuilds the
// tree from the snapshot. An empty snapshot where files were synced halts instead of deleting. The
// device's own commits are applied from the commits' answers when nothing came between (OwnCommits).

import type { FeedChange, SyncApi } from '../api/sync-api.ts';
import type { StateDb } from './state-db.ts';
import type { RemoteEntry } from './tree-types.ts';

export class RemoteEmptyError extends Error {
  constructor() {
    super(
      'the server lists no files for this space although files were synced: sync halted instead of deleting them locally',
    );
    this.name = 'RemoteEmptyError';
  }
}

function toRemote(c: FeedChange): RemoteEntry {
  return {
    path: c.path.normalize('NFC'),
    kind: c.kind,
    size: c.size,
    mtime: c.mtime,
    contentHash: c.contentHash,
    manifestId: c.manifestId,
    fileId: c.fileId,
    versionId: c.versionId,
    deviceId: c.deviceId,
  };
}

/** The remote tree in memory while a page is applied, indexed by path and by file id. */
class TreeIndex {
  readonly byPath: Map<string, RemoteEntry>;
  readonly byId = new Map<string, string>();
  readonly #db: StateDb;
  constructor(db: StateDb) {
    this.#db = db;
    this.byPath = db.remote();
    for (const e of this.byPath.values()) this.byId.set(e.fileId, e.path);
  }
  put(e: RemoteEntry): void {
    const prev = this.byPath.get(e.path);
    if (prev) this.byId.delete(prev.fileId);
    this.byPath.set(e.path, e);
    this.byId.set(e.fileId, e.path);
    this.#db.putRemote(e);
  }
  delete(path: string): void {
    const prev = this.byPath.get(path);
    if (!prev) return;
    this.byPath.delete(path);
    if (this.byId.get(prev.fileId) === path) this.byId.delete(prev.fileId);
    this.#db.deleteRemote(path);
  }
  under(dir: string): string[] {
    return [...this.byPath.keys()].filter((p) => p.startsWith(dir + '/'));
  }
}

function applyChange(c: FeedChange, tree: TreeIndex): void {
  const path = c.path.normalize('NFC');
  const oldPath = tree.byId.get(c.fileId);
  if (oldPath !== undefined && oldPath !== path) {
    const old = tree.byPath.get(oldPath)!;
    tree.delete(oldPath);
    if (old.kind === 'dir' && !c.deleted) {
      // A folder moved: its children moved with it (the server may also list them one by one).
      for (const p of tree.under(oldPath)) {
        const e = { ...tree.byPath.get(p)!, path: path + p.slice(oldPath.length) };
        tree.delete(p);
        tree.put(e);
      }
    }
  }
  if (c.deleted) {
    if (tree.byPath.get(path)?.fileId === c.fileId) tree.delete(path);
    if (c.kind === 'dir') for (const p of tree.under(path)) tree.delete(p);
    return;
  }
  tree.put(toRemote(c));
}

/** The seq the remote tree is at: everything of the feed up to it is applied. */
export function remoteCursor(db: StateDb): number {
  return Number(db.getMeta('cursor') ?? 0);
}

/**
 * Applies the device's own commits to the remote tree as a pull would, from the versions each
 * commit wrote (asked for with `echo`), when they follow the cursor with no gap: then nobody else
 * wrote in between, and the feed up to the commit's headSeq is exactly them. Otherwise it applies
 * nothing and the next pull brings them (and anything else). One per run of commits: the tree is
 * loaded once. Call `apply` inside the transaction that records the commit's results.
 */
export class OwnCommits {
  readonly #db: StateDb;
  #tree: TreeIndex | undefined;
  constructor(db: StateDb) {
    this.#db = db;
  }

  /** True when applied (the cursor is now headSeq). */
  apply(changes: readonly FeedChange[] | undefined, headSeq: number): boolean {
    if (!changes?.length || changes[changes.length - 1].seq !== headSeq) return false;
    const cursor = remoteCursor(this.#db);
    for (let i = 0; i < changes.length; i++) if (changes[i].seq !== cursor + 1 + i) return false;
    this.#tree ??= new TreeIndex(this.#db);
    for (const c of changes) applyChange(c, this.#tree);
    this.#db.setMeta('cursor', headSeq);
    return true;
  }
}

export interface PullResult {
  changes: number;
  headSeq: number;
}

export async function pullRemote(
  api: SyncApi,
  db: StateDb,
  spaceId: string,
  o: { wait?: number; signal?: AbortSignal } = {},
): Promise<PullResult> {
  let cursor = remoteCursor(db);
  let total = 0;
  let wait = o.wait;
  // Loaded at the first page with changes and kept for the next pages: reading the whole remote
  // tree per page cost a 5,000-change pull ~25 ms a page. A page whose transaction fails leaves
  // it ahead of the database, but the error ends the pull and the index with it.
  let tree: TreeIndex | undefined;
  for (;;) {
    const page = await api.changes(spaceId, cursor, { limit: 1000, wait, signal: o.signal });
    wait = undefined;
    if (page.resync) {
      cursor = await resync(api, db, spaceId, o.signal);
      tree = undefined;
      total++;
      continue;
    }
    // With more pages to come the cursor is the last seq seen; on the last page, the head.
    const next =
      page.hasMore && page.changes.length ? page.changes[page.changes.length - 1].seq : page.headSeq;
    // Nothing new, nothing written: the passes of an idle daemon leave the state db alone.
    if (page.changes.length || next !== cursor)
      db.tx(() => {
        if (page.changes.length) {
          tree ??= new TreeIndex(db);
          for (const c of page.changes) applyChange(c, tree);
        }
        db.setMeta('cursor', next);
      });
    total += page.changes.length;
    cursor = next;
    if (!page.hasMore) return { changes: total, headSeq: cursor };
  }
}

async function resync(api: SyncApi, db: StateDb, spaceId: string, signal?: AbortSignal): Promise<number> {
  const entries: FeedChange[] = [];
  let pageCursor: string | null = null;
  let headSeq = -1;
  do {
    const page = await api.snapshot(spaceId, { cursor: pageCursor, limit: 1000, signal });
    if (headSeq < 0) headSeq = page.headSeq;
    entries.push(...page.entries);
    pageCursor = page.cursor;
  } while (pageCursor);
  if (entries.length === 0 && db.syncedCount() > 0) throw new RemoteEmptyError();
  db.tx(() => {
    db.clearRemote();
    for (const c of entries) db.putRemote(toRemote(c));
    db.setMeta('cursor', headSeq);
  });
  return headSeq;
}
