// The file API's domain logic: upload, mkdir, move/rename, delete to trash, versions and restore.
// Every write goes through tree-writer in one transaction, then publishes the space's new seq.

import { FerryError, NotFoundError, QuotaExceededError } from '@ferry/core/errors';
import { baseName, isConflictCopy, isWithin, joinPath, normalizePath, parentPath } from '@ferry/core/paths';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { FileEntry, Version } from '../store/meta/types.ts';
import type { Notifier } from '../store/notify/notifier.ts';
import type { ContentService } from '../content/content-service.ts';
import { deleteTree, ensureParents, folderChange, writeEntry, type Written } from './tree-writer.ts';

export interface Actor {
  userId: string;
  deviceId: string | null;
}

// One page holds a big folder (5,000 entries ≈ 1 MB of JSON): a browser lists it in one round trip.
const MAX_LIST = 5000;

export class FilesService {
  readonly #meta: MetaStore;
  readonly #content: ContentService;
  readonly #notifier: Notifier;
  readonly #maxUploadBytes: number;

  constructor(o: { meta: MetaStore; content: ContentService; notifier: Notifier; maxUploadBytes: number }) {
    this.#meta = o.meta;
    this.#content = o.content;
    this.#notifier = o.notifier;
    this.#maxUploadBytes = o.maxUploadBytes;
  }

  async #commit<T extends { written: Written[] }>(
    spaceId: string,
    fn: (tx: MetaStore) => Promise<T>,
  ): Promise<T> {
    const result = await this.#meta.transaction(fn);
    const last = result.written.at(-1);
    if (last) await this.#notifier.publish(spaceId, last.version.seq);
    return result;
  }

  async #quotaLeft(ownerId: string): Promise<number> {
    const owner = await this.#meta.users.byId(ownerId);
    if (!owner?.quotaBytes) return Number.POSITIVE_INFINITY;
    return owner.quotaBytes - (await this.#meta.files.usageOf(ownerId));
  }

  /** Stores a stream at `path` as a new version (a new file when nothing is there). */
  async upload(
    space: { id: string; ownerId: string },
    rawPath: unknown,
    body: AsyncIterable<Uint8Array>,
    o: { actor: Actor; mtime?: number; declaredSize?: number; expectedHash?: string },
  ): Promise<FileEntry> {
    const path = normalizePath(rawPath);
    const before = await this.#meta.files.byPath(space.id, path);
    if (before?.kind === 'dir') throw new FerryError('IS_A_DIRECTORY', `${path} is a folder`);
    const left = (await this.#quotaLeft(space.ownerId)) + (before?.size ?? 0);
    if (o.declaredSize !== undefined && o.declaredSize > left)
      throw new QuotaExceededError('this upload would exceed your storage quota');
    if (o.declaredSize !== undefined && o.declaredSize > this.#maxUploadBytes) {
      throw new FerryError('PAYLOAD_TOO_LARGE', `upload is larger than ${this.#maxUploadBytes} bytes`);
    }
    const ingested = await this.#content
      .ingest(body, {
        maxBytes: Math.min(this.#maxUploadBytes, left === Infinity ? Infinity : Math.max(left, 0)),
      })
      .catch((e: unknown) => {
        if (e instanceof FerryError && e.code === 'PAYLOAD_TOO_LARGE' && left < this.#maxUploadBytes) {
          throw new QuotaExceededError('this upload would exceed your storage quota');
        }
        throw e;
      });
    if (o.expectedHash && o.expectedHash !== ingested.contentHash) {
      throw new FerryError(
        'HASH_MISMATCH',
        `content hashes to ${ingested.contentHash}, not ${o.expectedHash}`,
      );
    }
    const { written } = await this.#commit(space.id, async (tx) => {
      const current = await tx.files.byPath(space.id, path);
      if (current?.kind === 'dir') throw new FerryError('IS_A_DIRECTORY', `${path} is a folder`);
      // The quota is checked again here, serialised with other writes: two uploads that each fit
      // on their own may not both land when together they go over it.
      const quota = (await tx.users.byId(space.ownerId))?.quotaBytes ?? 0;
      const usage = quota ? await tx.files.usageOf(space.ownerId) : 0;
      if (quota && usage - (current?.size ?? 0) + ingested.size > quota)
        throw new QuotaExceededError('this upload would exceed your storage quota');
      const dirs = await ensureParents(tx, space.id, path, o.actor.deviceId);
      await this.#content.record(tx, ingested);
      const w = await writeEntry(tx, space.id, {
        fileId: current?.id,
        path,
        kind: 'file',
        size: ingested.size,
        contentHash: ingested.contentHash,
        manifestId: ingested.manifest.id,
        mtime: o.mtime ?? Date.now(),
        deleted: false,
        deviceId: o.actor.deviceId,
      });
      return { written: [...dirs, w] };
    });
    return written.at(-1)!.entry;
  }

  async mkdir(spaceId: string, rawPath: unknown, actor: Actor): Promise<FileEntry> {
    const path = normalizePath(rawPath);
    const { entry } = await this.#commit(spaceId, async (tx) => {
      const existing = await tx.files.byPath(spaceId, path);
      if (existing) {
        if (existing.kind === 'dir') return { written: [], entry: existing };
        throw new FerryError('ALREADY_EXISTS', `a file exists at ${path}`);
      }
      const dirs = await ensureParents(tx, spaceId, path, actor.deviceId);
      const w = await writeEntry(tx, spaceId, folderChange(path, actor.deviceId));
      return { written: [...dirs, w], entry: w.entry };
    });
    return entry;
  }

  async get(spaceId: string, id: string): Promise<FileEntry> {
    const e = await this.#meta.files.byId(spaceId, id);
    if (!e) throw new NotFoundError('file');
    return e;
  }

  async getLive(spaceId: string, ref: { id?: string; path?: unknown }): Promise<FileEntry> {
    const e = ref.id
      ? await this.#meta.files.byId(spaceId, ref.id)
      : await this.#meta.files.byPath(spaceId, normalizePath(ref.path, { allowRoot: false }));
    if (!e || e.deleted) throw new NotFoundError('file');
    return e;
  }

  async list(
    spaceId: string,
    rawDir: unknown,
    o: { recursive?: boolean; limit?: number; cursor?: string },
  ): Promise<{ entries: FileEntry[]; cursor: string | null }> {
    const dir = normalizePath(rawDir ?? '/', { allowRoot: true });
    if (dir !== '/') {
      const d = await this.#meta.files.byPath(spaceId, dir);
      if (!d) throw new NotFoundError('folder');
      if (d.kind !== 'dir') throw new FerryError('NOT_A_DIRECTORY', `${dir} is a file`);
    }
    const limit = Math.min(Math.max(o.limit ?? MAX_LIST, 1), MAX_LIST);
    const after = o.cursor ? Buffer.from(o.cursor, 'base64url').toString('utf8') : undefined;
    const entries = await this.#meta.files.list(spaceId, dir, {
      recursive: o.recursive,
      limit: limit + 1,
      after,
    });
    const more = entries.length > limit;
    if (more) entries.length = limit;
    return { entries, cursor: more ? Buffer.from(entries.at(-1)!.path, 'utf8').toString('base64url') : null };
  }

  async search(spaceId: string, text: string, limit = 200): Promise<FileEntry[]> {
    const q = text.trim();
    if (!q) return [];
    const hits = await this.#meta.files.search(spaceId, q, limit * 4);
    return hits.filter((e) => baseName(e.path).toLowerCase().includes(q.toLowerCase())).slice(0, limit);
  }

  async conflicts(spaceId: string): Promise<FileEntry[]> {
    return (await this.#meta.files.search(spaceId, ' (conflict from ', 10_000)).filter((e) =>
      isConflictCopy(e.path),
    );
  }

  /** Renames or moves a file or folder (with everything inside it). */
  async move(spaceId: string, id: string, rawTo: unknown, actor: Actor): Promise<FileEntry> {
    const to = normalizePath(rawTo);
    const { entry } = await this.#commit(spaceId, async (tx) => {
      const e = await tx.files.byId(spaceId, id);
      if (!e || e.deleted) throw new NotFoundError('file');
      if (e.path === to) return { written: [], entry: e };
      if (e.kind === 'dir' && isWithin(to, e.path))
        throw new FerryError('INVALID_PATH', 'a folder cannot be moved into itself');
      const clash = await tx.files.byPath(spaceId, to);
      if (clash && clash.id !== e.id)
        throw new FerryError('ALREADY_EXISTS', `something already exists at ${to}`);
      const written = await ensureParents(tx, spaceId, to, actor.deviceId);
      const inside =
        e.kind === 'dir'
          ? await tx.files.list(spaceId, e.path, { recursive: true, limit: Number.MAX_SAFE_INTEGER })
          : [];
      const moved = await writeEntry(tx, spaceId, {
        ...e,
        fileId: e.id,
        path: to,
        deviceId: actor.deviceId,
        deleted: false,
      });
      written.push(moved);
      for (const child of inside) {
        written.push(
          await writeEntry(tx, spaceId, {
            ...child,
            fileId: child.id,
            path: to + child.path.slice(e.path.length),
            deviceId: actor.deviceId,
            deleted: false,
          }),
        );
      }
      return { written, entry: moved.entry };
    });
    return entry;
  }

  /** Moves a file or folder (and its contents) to the trash. */
  async remove(spaceId: string, id: string, actor: Actor): Promise<FileEntry> {
    const { entry } = await this.#commit(spaceId, async (tx) => {
      const e = await tx.files.byId(spaceId, id);
      if (!e || e.deleted) throw new NotFoundError('file');
      const written = await deleteTree(tx, spaceId, e, { deviceId: actor.deviceId });
      return { written, entry: written.at(-1)!.entry };
    });
    return entry;
  }

  async versions(spaceId: string, id: string): Promise<Version[]> {
    await this.get(spaceId, id);
    return this.#meta.files.versions(id);
  }

  /** Makes an older version current again, as a new version (history is never rewritten). */
  async restoreVersion(spaceId: string, id: string, versionNo: number, actor: Actor): Promise<FileEntry> {
    const { entry } = await this.#commit(spaceId, async (tx) => {
      const e = await tx.files.byId(spaceId, id);
      if (!e) throw new NotFoundError('file');
      const v = await tx.files.version(id, versionNo);
      if (!v || v.deleted) throw new NotFoundError('version');
      if (v.kind !== 'file') throw new FerryError('IS_A_DIRECTORY', 'folders have no content versions');
      let path = e.path;
      if (e.deleted) path = await freePath(tx, spaceId, e.path, e.id);
      const written = await ensureParents(tx, spaceId, path, actor.deviceId);
      // Only the content comes from the old version: the op id and base belong to the new write.
      const w = await writeEntry(tx, spaceId, {
        fileId: id,
        path,
        kind: v.kind,
        size: v.size,
        contentHash: v.contentHash,
        manifestId: v.manifestId,
        mtime: v.mtime,
        deleted: false,
        deviceId: actor.deviceId,
      });
      written.push(w);
      return { written, entry: w.entry };
    });
    return entry;
  }

  /** Trash: top-level deleted items (a deleted folder stands for what was deleted with it). */
  async trash(spaceId: string): Promise<FileEntry[]> {
    const all = await this.#meta.files.trash(spaceId, { limit: 10_000 });
    const folders = new Set(all.filter((e) => e.kind === 'dir').map((e) => `${e.deletedAt}:${e.path}`));
    return all.filter((e) => !folders.has(`${e.deletedAt}:${parentPath(e.path)}`));
  }

  async restoreFromTrash(spaceId: string, id: string, actor: Actor): Promise<FileEntry> {
    const { entry } = await this.#commit(spaceId, async (tx) => {
      const e = await tx.files.byId(spaceId, id);
      if (!e || !e.deleted) throw new NotFoundError('trash item');
      const together = e.kind === 'dir' ? await tx.files.deletedTogether(spaceId, e.path, e.deletedAt!) : [e];
      const path = await freePath(tx, spaceId, e.path, e.id);
      const written = await ensureParents(tx, spaceId, path, actor.deviceId);
      for (const item of together) {
        const p = path + item.path.slice(e.path.length);
        written.push(
          await writeEntry(tx, spaceId, {
            ...item,
            fileId: item.id,
            path: p,
            deleted: false,
            deviceId: actor.deviceId,
          }),
        );
      }
      return { written, entry: written.find((w) => w.entry.id === id)!.entry };
    });
    return entry;
  }

  /** Empties the trash (or only items deleted before `olderThan`). Returns how many were removed. */
  async emptyTrash(spaceId: string, olderThan?: number): Promise<number> {
    const items = await this.#meta.files.trash(spaceId, { limit: Number.MAX_SAFE_INTEGER, olderThan });
    await this.#meta.transaction(async (tx) => {
      for (const e of items) await tx.files.purge(spaceId, e.id);
    });
    return items.length;
  }
}

/** `path` if free, else `name (restored).ext`, `name (restored 2).ext`, … */
async function freePath(tx: MetaStore, spaceId: string, path: string, selfId: string): Promise<string> {
  const holder = await tx.files.byPath(spaceId, path);
  if (!holder || holder.id === selfId) return path;
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
  for (let n = 1; ; n++) {
    const candidate = joinPath(parentPath(path), `${stem} (restored${n > 1 ? ' ' + n : ''})${ext}`);
    if (!(await tx.files.byPath(spaceId, candidate))) return candidate;
  }
}
