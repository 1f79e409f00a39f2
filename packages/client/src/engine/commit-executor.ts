// Runs the server-side half of a plan: records every change in the durable outbox first (an op
// keeps its opId across crashes and retries, so the server applies it once), sends the chunks
// the server lacks, commits in batches of up to 1,000 and folds the results into the synced tree.

import { encodeManifestDelta, toBase64 } from '@ferry/core/manifest-delta';
import { uuid7 } from '@ferry/core/uuid7';
import type { CommitChange, CommitResult } from '../api/sync-api.ts';
import { uploadMissingChunks, type UploadItem } from './chunk-uploader.ts';
import { unpackRefs } from './chunk-refs.ts';
import type { EngineContext } from './engine-context.ts';
import type { PlanOp } from './planner.ts';
import { OwnCommits } from './remote-mirror.ts';
import type { LocalEntry, SyncedEntry } from './tree-types.ts';

type RemoteOp = Extract<PlanOp, { type: 'upload' | 'deleteRemote' }>;

const COMMIT_BATCH = 1000;

function signature(op: RemoteOp): string {
  if (op.type === 'deleteRemote') return JSON.stringify(['delete', op.path, op.base.versionId]);
  return JSON.stringify([
    'put',
    op.path,
    op.local.kind,
    op.local.contentHash,
    op.base?.versionId ?? null,
    op.renameFrom ?? null,
  ]);
}

function toChange(op: RemoteOp, opId: string): CommitChange {
  if (op.type === 'deleteRemote') {
    return {
      opId,
      fileId: op.base.fileId ?? undefined,
      path: op.path,
      kind: op.base.kind,
      baseVersionId: op.base.versionId,
      deleted: true,
    };
  }
  const l = op.local;
  const base = op.base;
  const c: CommitChange = { opId, path: op.path, kind: l.kind, baseVersionId: base?.versionId ?? null };
  if (base?.fileId) c.fileId = base.fileId;
  if (l.kind === 'dir') return c;
  // A pure rename carries no content: the server keeps the file's bytes.
  if (op.renameFrom && base && base.contentHash === l.contentHash) return c;
  c.size = l.size;
  c.mtime = Math.round(l.mtime);
  c.contentHash = l.contentHash!;
  if (base?.refs && base.manifestId && base.versionId) {
    c.chunksDelta = toBase64(
      encodeManifestDelta(l.refs!, base.refs, { baseId: base.manifestId, targetId: l.manifestId }),
    );
  } else {
    c.chunks = unpackRefs(l.refs!).map((r) => ({ hash: r.hash, size: r.size }));
  }
  return c;
}

/** `stored`: chunks the server is known to have for this user (sent earlier in the pass). */
export async function executeRemoteOps(
  ctx: EngineContext,
  ops: RemoteOp[],
  stored?: ReadonlySet<string>,
): Promise<void> {
  if (ops.length === 0) return;
  const { db, api } = ctx;
  // 1. The outbox: reuse the opId of an identical pending op, record new ones, drop superseded ones.
  const pending = new Map(db.outbox().map((r) => [r.sig, r]));
  const planned: { op: RemoteOp; opId: string }[] = [];
  db.tx(() => {
    const keep = new Set<string>();
    for (const op of ops) {
      const sig = signature(op);
      const prev = pending.get(sig);
      const opId = prev?.opId ?? uuid7(); // time-ordered: appends to the server's op index
      keep.add(opId);
      planned.push({ op, opId });
      if (!prev)
        db.putOutbox({
          opId,
          path: op.path,
          sig,
          change: JSON.stringify({ type: op.type, path: op.path }),
          createdAt: Date.now(),
        });
    }
    for (const r of pending.values()) if (!keep.has(r.opId)) db.deleteOutbox(r.opId);
  });

  // 2. Chunks the server lacks.
  const items: UploadItem[] = [];
  for (const { op } of planned) {
    if (op.type !== 'upload' || op.local.kind !== 'file' || !op.local.refs) continue;
    if (op.renameFrom && op.base?.contentHash === op.local.contentHash) continue;
    items.push({
      key: op.path,
      diskPath: op.local.diskPath,
      refs: op.local.refs,
      known: op.base?.refs ?? null,
    });
  }
  const rep = await uploadMissingChunks(api, ctx.root, items, {
    stored,
    limiter: ctx.up,
    signal: ctx.signal,
    onBytes: (n) => ctx.onProgress?.('up', n),
  });
  ctx.stats.bytesUp += rep.bytesSent;
  const ready = planned.filter(({ op }) => !rep.changed.has(op.path));
  ctx.stats.deferred += planned.length - ready.length;

  // 3. Commit in batches; fold results in, and the versions written into the remote tree when no
  //    other device wrote in between (then the next pull does not bring our own changes back).
  const own = new OwnCommits(db);
  for (let i = 0; i < ready.length; i += COMMIT_BATCH) {
    const batch = ready.slice(i, i + COMMIT_BATCH);
    const changes = batch.map(({ op, opId }) => toChange(op, opId));
    const body = JSON.stringify(changes).length;
    ctx.stats.bytesUp += body;
    const answer = await api.commit(ctx.spaceId, changes, ctx.signal, { echo: true });
    const byOp = new Map(answer.results.map((r) => [r.opId, r]));
    db.tx(() => {
      for (const { op, opId } of batch) {
        const r = byOp.get(opId);
        if (!r) continue;
        applyResult(ctx, op, r);
        db.deleteOutbox(opId);
      }
      own.apply(answer.changes, answer.headSeq);
    });
  }
}

function syncedFrom(
  l: LocalEntry,
  fileId: string | null,
  versionId: string | null,
  path = l.path,
): SyncedEntry {
  return {
    path,
    kind: l.kind,
    size: l.size,
    mtime: l.mtime,
    contentHash: l.contentHash,
    manifestId: l.manifestId,
    fileId,
    versionId,
    ino: l.ino,
    refs: l.refs,
  };
}

function applyResult(ctx: EngineContext, op: RemoteOp, r: CommitResult): void {
  const { db, stats } = ctx;
  if (r.status === 'rejected') {
    stats.errors.push(`${op.path}: ${r.error?.message ?? r.reason ?? 'rejected by the server'}`);
    return;
  }
  if (r.status === 'conflict') stats.conflicts++;
  if (op.type === 'deleteRemote') {
    // Deleted, or the delete lost to a modification: either way the next pull decides.
    db.deleteSynced(op.path);
    stats.deleted++;
    return;
  }
  if (op.renameFrom) db.deleteSynced(op.renameFrom);
  if (r.status === 'conflict' && r.reason === 'rename-vs-delete') return; // uploaded as new next round
  const samePath = r.path.normalize('NFC') === op.path;
  // After a lost conflict our bytes live in the copy; the path is synced to "our bytes, unknown
  // version", so the next pull replaces them with the winner and brings the copy alongside.
  db.putSynced(samePath ? syncedFrom(op.local, r.fileId, r.versionId) : syncedFrom(op.local, null, null));
  if (op.renameFrom && op.base?.contentHash === op.local.contentHash) stats.renamed++;
  else stats.uploaded++;
}
