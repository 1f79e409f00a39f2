// Applies one sync change inside the commit transaction, following DESIGN.md's conflict rule:
// fast-forward when the base is the head; otherwise a three-way merge of path and content against
// the base; a real content conflict keeps both (newer mtime keeps the path, tie: larger device id;
// the other becomes `name (conflict from DEVICE YYYY-MM-DD HHMMSS).ext`); a delete racing a
// modification loses. Every write goes through tree-writer. docs/sync-protocol.md is the contract.

import { FerryError } from '@ferry/core/errors';
import { conflictCopyPath, isWithin } from '@ferry/core/paths';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { EntryKind, FileEntry, Manifest, Version } from '../store/meta/types.ts';
import { deleteTree, ensureParents, writeEntry, type Written } from '../files/tree-writer.ts';

export const COMMIT_STATUSES = ['ok', 'noop', 'conflict', 'rejected'] as const;
export type CommitStatus = (typeof COMMIT_STATUSES)[number];

export interface CommitResult {
  opId: string;
  status: CommitStatus;
  fileId: string | null;
  versionId: string | null;
  version: number | null;
  seq: number | null;
  path: string;
  conflictPath?: string;
  conflictFileId?: string;
  reason?: string;
  error?: { code: string; message: string };
}

/** File content as the commit resolved it: size, whole-file hash and a stored manifest. */
export interface Content {
  size: number;
  contentHash: string;
  manifest: Manifest;
}

/** A validated change: path normalized, content resolved (null: the change carries none). */
export interface PreparedChange {
  opId: string;
  fileId?: string;
  path: string;
  kind: EntryKind;
  baseVersionId: string | null;
  deleted: boolean;
  mtime: number;
  content: Content | null;
}

export interface ConflictNotice {
  path: string;
  conflictPath: string;
  fileId: string;
  conflictFileId: string;
}

export interface ApplyContext {
  tx: MetaStore;
  spaceId: string;
  deviceId: string | null;
  deviceName: (deviceId: string | null) => Promise<string>;
  /**
   * Folders known to exist in this transaction (see ensureParents): a batch of 1,000 files in a
   * few folders looks each folder up once, not once per file. Cleared before any change that may
   * delete or move a folder.
   */
  folders: Set<string>;
  written: Written[];
  conflicts: ConflictNotice[];
}

interface State {
  kind: EntryKind;
  size: number;
  contentHash: string | null;
  manifestId: string | null;
}

const sameContent = (a: State, b: State) =>
  a.kind === b.kind && (a.kind === 'dir' || a.contentHash === b.contentHash);
const stateOf = (c: Content, kind: EntryKind): State => ({
  kind,
  size: c.size,
  contentHash: c.contentHash,
  manifestId: c.manifest.id,
});

const fromWritten = (
  opId: string,
  status: CommitStatus,
  w: Written,
  extra: Partial<CommitResult> = {},
): CommitResult => ({
  opId,
  status,
  fileId: w.entry.id,
  versionId: w.version.id,
  version: w.version.version,
  seq: w.version.seq,
  path: w.entry.path,
  ...extra,
});

const fromEntry = (
  opId: string,
  status: CommitStatus,
  e: FileEntry,
  extra: Partial<CommitResult> = {},
): CommitResult => ({
  opId,
  status,
  fileId: e.id,
  versionId: e.versionId,
  version: e.version,
  seq: e.updatedSeq,
  path: e.path,
  ...extra,
});

export async function applyChange(ctx: ApplyContext, c: PreparedChange): Promise<CommitResult> {
  const { tx, spaceId } = ctx;
  let base: Version | undefined;
  if (c.baseVersionId) {
    const ref = await tx.sync.versionRef(spaceId, c.baseVersionId);
    base = ref && (await tx.files.version(ref.fileId, ref.version));
  }
  const fileId = c.fileId ?? base?.fileId;
  if (!fileId) return create(ctx, c);
  const head = await tx.files.byId(spaceId, fileId);
  if (!head) throw new FerryError('NOT_FOUND', `file ${fileId} is not in this space`);
  if (head.kind !== c.kind)
    throw new FerryError(
      head.kind === 'dir' ? 'IS_A_DIRECTORY' : 'NOT_A_DIRECTORY',
      `${head.path} is a ${head.kind === 'dir' ? 'folder' : 'file'}`,
    );
  const fastForward = c.baseVersionId === head.versionId;
  const baseState: State | undefined = base && {
    kind: base.kind,
    size: base.size,
    contentHash: base.contentHash,
    manifestId: base.manifestId,
  };
  const headChanged = fastForward ? false : !baseState || !sameContent(head, baseState);

  if (c.deleted) {
    if (head.deleted) return fromEntry(c.opId, 'noop', head);
    if (headChanged && head.kind === 'file')
      return fromEntry(c.opId, 'conflict', head, { reason: 'delete-vs-modify' });
    return fromWritten(c.opId, 'ok', await removeTree(ctx, head, c));
  }

  if (head.deleted) {
    // The delete happened elsewhere; a modification survives it, a bare rename does not.
    const modified = c.content && (!baseState || !sameContent(stateOf(c.content, c.kind), baseState));
    if (!modified && !(fastForward && c.content))
      return fromEntry(c.opId, 'conflict', head, { reason: 'rename-vs-delete' });
    const target = await freeTarget(
      ctx,
      c.path,
      head.id,
      c.content ? stateOf(c.content, c.kind) : head,
      c.mtime,
      ctx.deviceId,
    );
    const w = await write(ctx, c, {
      fileId: head.id,
      path: target.path,
      state: stateOf(c.content!, c.kind),
      mtime: c.mtime,
      deviceId: ctx.deviceId,
      baseVersionId: head.versionId,
      opId: c.opId,
    });
    return fromWritten(
      c.opId,
      target.path === c.path ? 'ok' : 'conflict',
      w,
      target.path === c.path
        ? { reason: 'resurrected' }
        : { reason: 'path-taken', conflictPath: target.path, conflictFileId: head.id },
    );
  }

  // Three-way merge of path and content.
  const incoming = c.content ? stateOf(c.content, c.kind) : undefined;
  const incomingChanged =
    !!incoming &&
    (fastForward ? !sameContent(incoming, head) : !baseState || !sameContent(incoming, baseState));
  const inMoved = c.path !== (fastForward ? head.path : (base?.path ?? head.path));
  const headMoved = !fastForward && !!base && head.path !== base.path;
  const path = inMoved && !headMoved ? c.path : head.path;
  if (head.kind === 'dir' && path !== head.path && isWithin(path, head.path))
    throw new FerryError('INVALID_PATH', 'a folder cannot be moved into itself');

  let state: State = head;
  let diverged = false;
  if (incomingChanged) {
    if (!headChanged || sameContent(incoming, head)) state = incoming;
    else diverged = true;
  }
  if (!diverged) {
    if (path === head.path && sameContent(state, head)) return fromEntry(c.opId, 'noop', head);
    const target = await freeTarget(ctx, path, head.id, state, c.mtime, ctx.deviceId);
    const mtime = state === head ? head.mtime : c.mtime;
    const w = await write(ctx, c, {
      fileId: head.id,
      path: target.path,
      state,
      mtime,
      deviceId: ctx.deviceId,
      baseVersionId: head.versionId,
      opId: c.opId,
      moveChildrenFrom: head.kind === 'dir' ? head.path : undefined,
    });
    if (target.path !== path)
      return fromWritten(c.opId, 'conflict', w, {
        reason: 'path-taken',
        conflictPath: target.path,
        conflictFileId: head.id,
      });
    return fromWritten(c.opId, 'ok', w);
  }
  return divergedConflict(ctx, c, head, path, incoming!);
}

/** A new file or folder (no fileId, no base). */
async function create(ctx: ApplyContext, c: PreparedChange): Promise<CommitResult> {
  const { tx, spaceId } = ctx;
  if (c.deleted)
    return {
      opId: c.opId,
      status: 'noop',
      fileId: null,
      versionId: null,
      version: null,
      seq: null,
      path: c.path,
    };
  const existing = await tx.files.byPath(spaceId, c.path);
  const incoming: State =
    c.kind === 'dir'
      ? { kind: 'dir', size: 0, contentHash: null, manifestId: null }
      : stateOf(c.content!, 'file');
  if (!existing) {
    const w = await write(ctx, c, {
      path: c.path,
      state: incoming,
      mtime: c.mtime,
      deviceId: ctx.deviceId,
      baseVersionId: null,
      opId: c.opId,
    });
    return fromWritten(c.opId, 'ok', w);
  }
  if (sameContent(existing, incoming)) return fromEntry(c.opId, 'noop', existing);
  if (c.kind === 'dir') return fromEntry(c.opId, 'conflict', existing, { reason: 'kind-mismatch' });
  if (existing.kind === 'dir') {
    const target = await freeTarget(
      ctx,
      conflictCopyPath(c.path, await ctx.deviceName(ctx.deviceId), new Date(c.mtime)),
      undefined,
      incoming,
      c.mtime,
      ctx.deviceId,
    );
    if (target.existing)
      return fromEntry(c.opId, 'conflict', target.existing, {
        reason: 'kind-mismatch',
        conflictPath: target.path,
        conflictFileId: target.existing.id,
      });
    const w = await write(ctx, c, {
      path: target.path,
      state: incoming,
      mtime: c.mtime,
      deviceId: ctx.deviceId,
      baseVersionId: null,
      opId: c.opId,
    });
    return fromWritten(c.opId, 'conflict', w, {
      reason: 'kind-mismatch',
      conflictPath: target.path,
      conflictFileId: w.entry.id,
    });
  }
  return divergedConflict(ctx, c, existing, c.path, incoming);
}

/** Both contents are kept: the newer mtime keeps `path`, the other becomes a conflict copy. */
async function divergedConflict(
  ctx: ApplyContext,
  c: PreparedChange,
  head: FileEntry,
  path: string,
  incoming: State,
): Promise<CommitResult> {
  const headVersion = await ctx.tx.files.version(head.id, head.version);
  const headDevice = headVersion?.deviceId ?? null;
  const incomingWins =
    c.mtime !== head.mtime ? c.mtime > head.mtime : (ctx.deviceId ?? '') > (headDevice ?? '');
  const loser = incomingWins
    ? { state: head as State, mtime: head.mtime, deviceId: headDevice }
    : { state: incoming, mtime: c.mtime, deviceId: ctx.deviceId };
  await ensureParents(ctx.tx, ctx.spaceId, path, ctx.deviceId, ctx.folders).then((ws) =>
    ctx.written.push(...ws),
  );
  const copyPath = conflictCopyPath(path, await ctx.deviceName(loser.deviceId), new Date(loser.mtime));
  const target = await freeTarget(ctx, copyPath, undefined, loser.state, loser.mtime, loser.deviceId);
  let copy: { id: string; written?: Written };
  if (target.existing) copy = { id: target.existing.id };
  else {
    const w = await write(ctx, c, {
      path: target.path,
      state: loser.state,
      mtime: loser.mtime,
      deviceId: loser.deviceId,
      baseVersionId: null,
      opId: incomingWins ? null : c.opId,
    });
    copy = { id: w.entry.id, written: w };
  }
  let result: CommitResult;
  if (incomingWins) {
    const w = await write(ctx, c, {
      fileId: head.id,
      path,
      state: incoming,
      mtime: c.mtime,
      deviceId: ctx.deviceId,
      baseVersionId: head.versionId,
      opId: c.opId,
    });
    result = fromWritten(c.opId, 'conflict', w, {
      reason: 'diverged',
      conflictPath: target.path,
      conflictFileId: copy.id,
    });
  } else {
    if (path !== head.path) {
      await write(ctx, c, {
        fileId: head.id,
        path,
        state: head,
        mtime: head.mtime,
        deviceId: ctx.deviceId,
        baseVersionId: head.versionId,
        opId: null,
      });
    }
    result = copy.written
      ? fromWritten(c.opId, 'conflict', copy.written, {
          reason: 'diverged',
          conflictPath: target.path,
          conflictFileId: copy.id,
        })
      : fromEntry(c.opId, 'conflict', target.existing!, {
          reason: 'diverged',
          conflictPath: target.path,
          conflictFileId: copy.id,
        });
  }
  ctx.conflicts.push({ path, conflictPath: target.path, fileId: head.id, conflictFileId: copy.id });
  return result;
}

/**
 * `path` when it is free (or held by `selfId`); a path already holding the same content is reused
 * (`existing`); otherwise the conflict-copy name of the content, then with " 2", " 3"… on the
 * device name until free.
 */
async function freeTarget(
  ctx: ApplyContext,
  path: string,
  selfId: string | undefined,
  state: State,
  mtime: number,
  deviceId: string | null,
): Promise<{ path: string; existing?: FileEntry }> {
  const holder = await ctx.tx.files.byPath(ctx.spaceId, path);
  if (!holder || holder.id === selfId) return { path };
  if (!selfId && sameContent(holder, state)) return { path, existing: holder };
  const name = await ctx.deviceName(deviceId);
  for (let n = 1; n < 1000; n++) {
    const candidate = conflictCopyPath(path, n === 1 ? name : `${name} ${n}`, new Date(mtime));
    const h = await ctx.tx.files.byPath(ctx.spaceId, candidate);
    if (!h || h.id === selfId) return { path: candidate };
    if (!selfId && sameContent(h, state)) return { path: candidate, existing: h };
  }
  throw new FerryError('ALREADY_EXISTS', `no free conflict-copy name for ${path}`);
}

interface WriteSpec {
  fileId?: string;
  path: string;
  state: State;
  mtime: number;
  deviceId: string | null;
  baseVersionId: string | null;
  opId: string | null;
  /** For a folder move: the old path, whose live descendants move along. */
  moveChildrenFrom?: string;
}

async function write(ctx: ApplyContext, _c: PreparedChange, s: WriteSpec): Promise<Written> {
  const { tx, spaceId } = ctx;
  const parents = await ensureParents(tx, spaceId, s.path, ctx.deviceId, ctx.folders);
  ctx.written.push(...parents);
  const inside =
    s.moveChildrenFrom && s.moveChildrenFrom !== s.path
      ? await tx.files.list(spaceId, s.moveChildrenFrom, { recursive: true, limit: Number.MAX_SAFE_INTEGER })
      : [];
  const w = await writeEntry(tx, spaceId, {
    fileId: s.fileId,
    path: s.path,
    kind: s.state.kind,
    size: s.state.kind === 'dir' ? 0 : s.state.size,
    contentHash: s.state.contentHash,
    manifestId: s.state.manifestId,
    mtime: s.mtime,
    deleted: false,
    deviceId: s.deviceId,
    baseVersionId: s.baseVersionId,
    opId: s.opId,
  });
  ctx.written.push(w);
  for (const child of inside) {
    const to = s.path + child.path.slice(s.moveChildrenFrom!.length);
    ctx.written.push(
      await writeEntry(tx, spaceId, {
        ...child,
        fileId: child.id,
        path: to,
        deviceId: ctx.deviceId,
        deleted: false,
        baseVersionId: child.versionId,
        opId: null,
      }),
    );
  }
  return w;
}

/** Deletes an entry and, for a folder, everything live below it (children first, like the trash). */
async function removeTree(ctx: ApplyContext, head: FileEntry, c: PreparedChange): Promise<Written> {
  const written = await deleteTree(ctx.tx, ctx.spaceId, head, {
    deviceId: ctx.deviceId,
    opId: c.opId,
    mtime: c.mtime,
  });
  ctx.written.push(...written);
  return written.at(-1)!;
}
