// Serves manifests (a file's chunk list) to sync clients, as a delta against a manifest the client
// already has when it names one, else in full. Only manifests that a version of the space
// references are served, so a manifest id from another tenant reveals nothing.

import { NotFoundError } from '@ferry/core/errors';
import { encodeManifestDelta } from '@ferry/core/manifest-delta';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Manifest } from '../store/meta/types.ts';
import { packChunkRefs } from '../store/meta/sql-content-store.ts';

export const MANIFEST_CONTENT_TYPE = 'application/x-ferry-manifest';

export interface EncodedManifest {
  id: string;
  size: number;
  /** The base the delta is against, or null for a full list. */
  base: string | null;
  delta: Uint8Array;
}

export class ManifestService {
  readonly #meta: MetaStore;

  constructor(o: { meta: MetaStore }) {
    this.#meta = o.meta;
  }

  async #inSpace(spaceId: string, id: string): Promise<Manifest | undefined> {
    if (!(await this.#meta.sync.manifestInSpace(spaceId, id))) return undefined;
    return this.#meta.content.manifest(id);
  }

  /** The manifest `id` of a space, as a delta against `base` when that is a manifest of the space too. */
  async encode(spaceId: string, id: string, base?: string | null): Promise<EncodedManifest> {
    const m = await this.#inSpace(spaceId, id);
    if (!m) throw new NotFoundError('manifest');
    const b = base && base !== id ? await this.#inSpace(spaceId, base) : base === id ? m : undefined;
    const delta = encodeManifestDelta(packChunkRefs(m.chunks), b ? packChunkRefs(b.chunks) : null, {
      baseId: b?.id,
      targetId: m.id,
    });
    return { id: m.id, size: m.size, base: b?.id ?? null, delta };
  }

  /** The current content of a file as a delta against its version number `baseVersion`. */
  async forFile(spaceId: string, fileId: string, baseVersion?: number): Promise<EncodedManifest> {
    const e = await this.#meta.files.byId(spaceId, fileId);
    if (!e || e.deleted || !e.manifestId) throw new NotFoundError('file');
    const base = baseVersion !== undefined ? await this.#meta.files.version(fileId, baseVersion) : undefined;
    return this.encode(spaceId, e.manifestId, base?.manifestId ?? null);
  }
}
