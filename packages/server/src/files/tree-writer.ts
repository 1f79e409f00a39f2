// The single write path of a space's tree, used inside a MetaStore transaction: every change takes
// the next seq of its space, appends a version and updates the file's current entry. Upload, mkdir,
// move, delete, restore and the sync commit all go through here.

import { uuid7 } from '@ferry/core/uuid7';
import { FerryError } from '@ferry/core/errors';
import { ancestors } from '@ferry/core/paths';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { EntryKind, FileEntry, Version } from '../store/meta/types.ts';

export interface EntryChange {
  /** The file this change continues; omitted for a new file. */
  fileId?: string;
  path: string;
  kind: EntryKind;
  size: number;
  contentHash: string | null;
  manifestId: string | null;
  mtime: number;
  deleted: boolean;
  deviceId: string | null;
  baseVersionId?: string | null;
  opId?: string | null;
  /** When the write happens (ms); one value for writes that belong together. Default: now. */
  at?: number;
}

export interface Written {
  entry: FileEntry;
  version: Version;
}

/** The change that creates a folder at `path`. */
export function folderChange(path: string, deviceId: string | null): EntryChange {
  return {
    path,
    kind: 'dir',
    size: 0,
    contentHash: null,
    manifestId: null,
    mtime: Date.now(),
    deleted: false,
    deviceId,
  };
}

/**
 * Deletes an entry and, for a folder, everything live below it: children first, all with one
 * deleted_at, so the trash shows the folder standing for what went with it. Returns the writes in
 * order, the entry's own last.
 */
export async function deleteTree(
  tx: MetaStore,
  spaceId: string,
  head: FileEntry,
  o: { deviceId: string | null; opId?: string | null; mtime?: number },
): Promise<Written[]> {
  const at = Date.now();
  const inside =
    head.kind === 'dir'
      ? await tx.files.list(spaceId, head.path, { recursive: true, limit: Number.MAX_SAFE_INTEGER })
      : [];
  const written: Written[] = [];
  for (const child of inside.reverse())
    written.push(
      await writeEntry(tx, spaceId, {
        ...child,
        fileId: child.id,
        deleted: true,
        deviceId: o.deviceId,
        baseVersionId: child.versionId,
        opId: null,
        at,
      }),
    );
  written.push(
    await writeEntry(tx, spaceId, {
      ...head,
      fileId: head.id,
      deleted: true,
      deviceId: o.deviceId,
      mtime: o.mtime ?? head.mtime,
      baseVersionId: head.versionId,
      opId: o.opId ?? null,
      at,
    }),
  );
  return written;
}

/** Writes one change. The caller has checked the path and holds a transaction. */
export async function writeEntry(tx: MetaStore, spaceId: string, c: EntryChange): Promise<Written> {
  const existing = c.fileId ? await tx.files.byId(spaceId, c.fileId) : undefined;
  const seq = await tx.spaces.nextSeq(spaceId);
  const now = c.at ?? Date.now();
  const version: Version = {
    id: uuid7(),
    spaceId,
    fileId: existing?.id ?? c.fileId ?? uuid7(),
    seq,
    version: (existing?.version ?? 0) + 1,
    path: c.path,
    prevPath: existing && existing.path !== c.path ? existing.path : null,
    kind: c.kind,
    size: c.size,
    contentHash: c.contentHash,
    manifestId: c.manifestId,
    mtime: c.mtime,
    deviceId: c.deviceId,
    baseVersionId: c.baseVersionId ?? existing?.versionId ?? null,
    deleted: c.deleted,
    opId: c.opId ?? null,
    createdAt: now,
  };
  const entry: FileEntry = {
    id: version.fileId,
    spaceId,
    path: c.path,
    kind: c.kind,
    size: c.size,
    contentHash: c.contentHash,
    manifestId: c.manifestId,
    version: version.version,
    versionId: version.id,
    mtime: c.mtime,
    deleted: c.deleted,
    deletedAt: c.deleted ? (existing?.deleted ? existing.deletedAt : now) : null,
    updatedSeq: seq,
  };
  await tx.files.upsert(entry);
  await tx.files.addVersion(version);
  return { entry, version };
}

/**
 * Makes sure every ancestor folder of `path` exists, creating missing ones. Throws
 * NOT_A_DIRECTORY when an ancestor is a file. Returns the folders it created.
 * `folders`: folders known to exist in this transaction, not looked up again, and extended with
 * those found or made here; whoever holds it clears it before anything that may delete or move a
 * folder.
 */
export async function ensureParents(
  tx: MetaStore,
  spaceId: string,
  path: string,
  deviceId: string | null,
  folders?: Set<string>,
): Promise<Written[]> {
  const created: Written[] = [];
  for (const dir of ancestors(path)) {
    if (folders?.has(dir)) continue;
    const e = await tx.files.byPath(spaceId, dir);
    if (e?.kind === 'file') throw new FerryError('NOT_A_DIRECTORY', `${dir} is a file, not a folder`);
    if (!e) {
      created.push(await writeEntry(tx, spaceId, folderChange(dir, deviceId)));
    }
    folders?.add(dir);
  }
  return created;
}
