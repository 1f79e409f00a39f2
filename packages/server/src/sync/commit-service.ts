// The sync commit: validates a batch of changes, resolves their chunk lists (full, as a delta
// against the base version's manifest, or an existing manifest id), checks every chunk is present
// for the caller, then applies the whole batch in one transaction (commit-rules.ts) with opId
// idempotency, and publishes the space's new head seq.

import { createHash } from 'node:crypto';
import { FerryError, QuotaExceededError } from '@ferry/core/errors';
import { normalizePath } from '@ferry/core/paths';
import {
  ManifestDeltaError,
  decodeManifestDelta,
  fromBase64,
  readManifestDeltaHeader,
} from '@ferry/core/manifest-delta';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { ChunkRef, EntryKind, Manifest } from '../store/meta/types.ts';
import type { Notifier } from '../store/notify/notifier.ts';
import { manifestId } from '../content/content-service.ts';
import { packChunkRefs, unpackChunkRefs } from '../store/meta/sql-content-store.ts';
import type { Written } from '../files/tree-writer.ts';
import type { ChunkVisibility } from './chunk-visibility.ts';
import { changeItem, type ChangeItem } from './change-feed.ts';
import {
  applyChange,
  type CommitResult,
  type ConflictNotice,
  type Content,
  type PreparedChange,
} from './commit-rules.ts';

export type { CommitResult } from './commit-rules.ts';

export const MAX_CHANGES = 1000;
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Per-change domain refusals that do not fail the batch (see docs/sync-protocol.md). */
const REJECTABLE = new Set([
  'NOT_FOUND',
  'NOT_A_DIRECTORY',
  'IS_A_DIRECTORY',
  'INVALID_PATH',
  'ALREADY_EXISTS',
]);

export interface ChangeInput {
  opId: string;
  fileId?: string;
  path: string;
  kind: EntryKind;
  baseVersionId: string | null;
  deleted?: boolean;
  size?: number;
  mtime?: number;
  contentHash?: string;
  chunks?: ChunkRef[];
  chunksDelta?: string;
  manifestId?: string;
}

export interface CommitOutcome {
  results: CommitResult[];
  headSeq: number;
  /**
   * With `echo`: every version this commit wrote (conflict copies and implicit folders included),
   * in seq order, as the change feed lists them. A device whose cursor was right before the first
   * applies them and skips pulling its own changes back.
   */
  changes?: ChangeItem[];
}

export interface ConflictEvent extends ConflictNotice {
  spaceId: string;
}

export class CommitService {
  readonly #meta: MetaStore;
  readonly #notifier: Notifier;
  readonly #onConflict: (e: ConflictEvent) => void;
  readonly #visibility: ChunkVisibility;

  constructor(o: {
    meta: MetaStore;
    notifier: Notifier;
    visibility: ChunkVisibility;
    onConflict?: (e: ConflictEvent) => void;
  }) {
    this.#meta = o.meta;
    this.#visibility = o.visibility;
    this.#notifier = o.notifier;
    this.#onConflict = o.onConflict ?? (() => undefined);
  }

  async commit(
    space: { id: string; ownerId: string },
    actor: { userId: string; deviceId: string | null },
    changes: ChangeInput[],
    o: { echo?: boolean } = {},
  ): Promise<CommitOutcome> {
    if (changes.length > MAX_CHANGES)
      throw new FerryError('PAYLOAD_TOO_LARGE', `a commit takes at most ${MAX_CHANGES} changes`);
    const ops = new Set<string>();
    for (const c of changes) {
      if (ops.has(c.opId)) throw new FerryError('BAD_REQUEST', `opId ${c.opId} appears twice in the batch`);
      ops.add(c.opId);
    }
    // Replays skip validation: their chunks may be long gone, their result is stored.
    const replayed = new Set(
      (
        await this.#meta.sync.opResults(
          space.id,
          changes.map((c) => c.opId),
        )
      ).keys(),
    );
    const prepared: PreparedChange[] = [];
    for (const c of changes)
      prepared.push(replayed.has(c.opId) ? this.#shallow(c) : await this.#prepare(space.id, c));
    await this.#checkChunks(actor.userId, prepared);

    const owner = await this.#meta.users.byId(space.ownerId);
    const outcome = await this.#meta.transaction(async (tx) => {
      await tx.sync.lockSpace(space.id);
      // Reads inside the transaction go through `tx`: on SQLite the store's lock is held until it ends.
      const names = new Map<string, string>();
      const deviceName = async (id: string | null) => {
        if (!id) return 'unknown device';
        let n = names.get(id);
        if (n === undefined) names.set(id, (n = (await tx.devices.byId(id))?.name ?? 'unknown device'));
        return n;
      };
      const usageBefore = owner?.quotaBytes ? await tx.files.usageOf(space.ownerId) : 0;
      const ctx = {
        tx,
        spaceId: space.id,
        deviceId: actor.deviceId,
        deviceName,
        folders: new Set<string>(),
        written: [] as Written[],
        conflicts: [] as ConflictNotice[],
      };
      const manifests = new Map<string, Manifest>();
      for (const c of prepared)
        if (c.content && !replayed.has(c.opId)) manifests.set(c.content.manifest.id, c.content.manifest);
      // Many rows a statement: a batch of small files is a manifest and a chunk each.
      await tx.content.putManifests([...manifests.values()]);
      await tx.sync.addSpaceChunks(
        space.id,
        [...manifests.values()].flatMap((m) => m.chunks.map((r) => r.hash)),
      );
      const results: CommitResult[] = [];
      const now = Date.now();
      // Read again under the space lock: a concurrent commit of the same ops may have won meanwhile.
      const done = await tx.sync.opResults(
        space.id,
        prepared.map((c) => c.opId),
      );
      const saved: { opId: string; result: CommitResult }[] = [];
      for (const c of prepared) {
        const stored = done.get(c.opId) as CommitResult | undefined;
        if (stored) {
          results.push(stored);
          continue;
        }
        // A delete or a folder change may take folders away: look them up afresh after it.
        if (c.deleted || c.kind === 'dir') ctx.folders.clear();
        let r: CommitResult;
        try {
          r = await applyChange(ctx, c);
        } catch (e) {
          if (!(e instanceof FerryError) || !REJECTABLE.has(e.code)) throw e;
          r = {
            opId: c.opId,
            status: 'rejected',
            fileId: c.fileId ?? null,
            versionId: null,
            version: null,
            seq: null,
            path: c.path,
            error: { code: e.code, message: e.message },
          };
        }
        if (r.status !== 'rejected') saved.push({ opId: c.opId, result: r });
        results.push(r);
      }
      await tx.sync.saveOpResults(space.id, saved, now);
      if (owner?.quotaBytes) {
        const after = await tx.files.usageOf(space.ownerId);
        if (after > owner.quotaBytes && after > usageBefore)
          throw new QuotaExceededError('this commit would exceed the storage quota of the space owner', {
            quotaBytes: owner.quotaBytes,
            usage: after,
          });
      }
      const versions = ctx.written.map((w) => w.version).sort((a, b) => a.seq - b.seq);
      const headSeq = versions.at(-1)?.seq ?? (await tx.spaces.byId(space.id))?.headSeq ?? 0;
      return { results, headSeq, versions, conflicts: ctx.conflicts };
    });
    if (outcome.versions.length) await this.#notifier.publish(space.id, outcome.headSeq);
    for (const c of outcome.conflicts) this.#onConflict({ spaceId: space.id, ...c });
    return {
      results: outcome.results,
      headSeq: outcome.headSeq,
      ...(o.echo ? { changes: outcome.versions.map(changeItem) } : {}),
    };
  }

  #shallow(c: ChangeInput): PreparedChange {
    return {
      opId: c.opId,
      fileId: c.fileId,
      path: c.path,
      kind: c.kind,
      baseVersionId: c.baseVersionId,
      deleted: !!c.deleted,
      mtime: c.mtime ?? Date.now(),
      content: null,
    };
  }

  async #prepare(spaceId: string, c: ChangeInput): Promise<PreparedChange> {
    const path = normalizePath(c.path);
    const deleted = !!c.deleted;
    const sources = [c.chunks, c.chunksDelta, c.manifestId].filter((x) => x !== undefined).length;
    const out: PreparedChange = {
      opId: c.opId,
      fileId: c.fileId,
      path,
      kind: c.kind,
      baseVersionId: c.baseVersionId,
      deleted,
      mtime: c.mtime ?? Date.now(),
      content: null,
    };
    if (c.kind === 'dir' || deleted) {
      if (sources > 0 || c.contentHash !== undefined)
        throw new FerryError(
          'BAD_REQUEST',
          `change ${c.opId}: ${deleted ? 'a delete' : 'a folder'} carries no content`,
        );
      return out;
    }
    if (sources === 0) {
      if (c.contentHash !== undefined || c.size !== undefined)
        throw new FerryError(
          'BAD_REQUEST',
          `change ${c.opId}: content needs one of chunks, chunksDelta, manifestId`,
        );
      if (!c.fileId && !c.baseVersionId)
        throw new FerryError('BAD_REQUEST', `change ${c.opId}: a new file needs its content`);
      return out; // a rename or move: the server keeps the current content
    }
    if (sources > 1)
      throw new FerryError(
        'BAD_REQUEST',
        `change ${c.opId}: give only one of chunks, chunksDelta, manifestId`,
      );
    if (c.contentHash === undefined || c.size === undefined)
      throw new FerryError('BAD_REQUEST', `change ${c.opId}: content needs size and contentHash`);
    let refs: ChunkRef[];
    if (c.chunks) refs = c.chunks;
    else if (c.manifestId) {
      const m = await this.#meta.content.manifest(c.manifestId);
      if (!m)
        throw new FerryError(
          'BAD_REQUEST',
          `change ${c.opId}: manifest ${c.manifestId} is unknown; send chunks`,
        );
      refs = m.chunks;
    } else refs = await this.#fromDelta(spaceId, c);
    const size = refs.reduce((s, r) => s + r.size, 0);
    if (size !== c.size)
      throw new FerryError(
        'SIZE_MISMATCH',
        `change ${c.opId}: size ${c.size} is not the sum of its chunks (${size})`,
      );
    if (refs.length === 0 && c.contentHash !== EMPTY_SHA256)
      throw new FerryError('SIZE_MISMATCH', `change ${c.opId}: an empty file hashes to ${EMPTY_SHA256}`);
    if (refs.length === 1 && c.contentHash !== refs[0].hash)
      throw new FerryError('SIZE_MISMATCH', `change ${c.opId}: a one-chunk file's hash is its chunk's hash`);
    const content: Content = {
      size,
      contentHash: c.contentHash,
      manifest: { id: manifestId(refs), size, chunkCount: refs.length, chunks: refs },
    };
    return { ...out, content };
  }

  async #fromDelta(spaceId: string, c: ChangeInput): Promise<ChunkRef[]> {
    const unknown = (why: string) =>
      new FerryError('DELTA_BASE_UNKNOWN', `change ${c.opId}: ${why}; send the full chunk list`);
    if (!c.baseVersionId) throw unknown('chunksDelta needs a baseVersionId');
    const ref = await this.#meta.sync.versionRef(spaceId, c.baseVersionId);
    const base = ref && (await this.#meta.files.version(ref.fileId, ref.version));
    const baseManifest = base?.manifestId ? await this.#meta.content.manifest(base.manifestId) : undefined;
    if (!baseManifest) throw unknown('the base version has no known manifest');
    try {
      const delta = fromBase64(c.chunksDelta!);
      const header = readManifestDeltaHeader(delta);
      if (header.baseId && header.baseId !== baseManifest.id)
        throw unknown(
          `the delta is against manifest ${header.baseId}, not the base version's ${baseManifest.id}`,
        );
      const packed = decodeManifestDelta(delta, packChunkRefs(baseManifest.chunks));
      if (header.targetId && createHash('sha256').update(packed).digest('hex') !== header.targetId)
        throw unknown('the decoded list does not match the delta target id');
      return unpackChunkRefs(packed);
    } catch (e) {
      if (e instanceof ManifestDeltaError) throw unknown(`the delta is malformed (${e.message})`);
      throw e;
    }
  }

  async #checkChunks(userId: string, prepared: PreparedChange[]): Promise<void> {
    const hashes = new Set<string>();
    for (const c of prepared) for (const r of c.content?.manifest.chunks ?? []) hashes.add(r.hash);
    if (hashes.size === 0) return;
    const visible = await this.#visibility.visible(userId, [...hashes]);
    const missing = [...hashes].filter((h) => !visible.has(h));
    if (missing.length > 0) {
      throw new FerryError(
        'CHUNKS_MISSING',
        `${missing.length} chunk(s) are not on the server; upload them and retry`,
        { missing: missing.slice(0, 1000), count: missing.length },
      );
    }
    for (const c of prepared) {
      for (const r of c.content?.manifest.chunks ?? []) {
        if (visible.get(r.hash) !== r.size)
          throw new FerryError(
            'SIZE_MISMATCH',
            `change ${c.opId}: chunk ${r.hash} is ${visible.get(r.hash)} bytes, not ${r.size}`,
          );
      }
    }
  }
}
