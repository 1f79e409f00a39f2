// Runs the device-side half of a plan: folders, renames, downloads (bounded concurrency) and
// deletes — each only if the local entry is still what the plan saw — then records the result
// as synced. Manifests come in batches, as deltas against the version the device already has.

import { mkdir, rename, rmdir, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createHash } from 'node:crypto';
import { decodeManifestDelta, fromBase64 } from '@ferry/core/manifest-delta';
import { manifestIdOf, unpackRefs } from './chunk-refs.ts';
import type { EngineContext } from './engine-context.ts';
import { downloadFile, fetchChunks, type DownloadJob } from './file-downloader.ts';
import type { PlanOp } from './planner.ts';
import { statEntry } from './scanner.ts';
import type { LocalEntry, RemoteEntry, SyncedEntry } from './tree-types.ts';

type LocalOp = Exclude<PlanOp, { type: 'upload' | 'deleteRemote' }>;
type DownloadOp = Extract<PlanOp, { type: 'download' }>;

const EMPTY_SHA = createHash('sha256').digest('hex');
// New files up to GROUP_FILE_MAX are fetched in groups of up to GROUP_FILES files / GROUP_BYTES.
const GROUP_FILE_MAX = 1024 * 1024;
const GROUP_FILES = 500;
const GROUP_BYTES = 8 * 1024 * 1024;
// Files of a group written at once: each waits mostly in its fsync, and concurrent fsyncs share
// journal commits (with the CLI's 64 pool threads; 8 at a time left most of them idle).
const GROUP_CONCURRENCY = 32;
/** Downloaded files recorded in the state database per transaction. */
const RECORD_BATCH = 256;

function synced(r: RemoteEntry, ino: number | null, refs: Uint8Array | null, mtime = r.mtime): SyncedEntry {
  return { ...r, mtime, ino, refs };
}

async function stillIs(ctx: EngineContext, e: LocalEntry): Promise<boolean> {
  const now = await statEntry(join(ctx.root, e.diskPath));
  if (!now) return false;
  if (e.kind === 'dir') return now.st.isDirectory();
  return e.stamp ? now.stamp === e.stamp : now.size === e.size;
}

export async function executeLocalOps(
  ctx: EngineContext,
  ops: LocalOp[],
  local: Map<string, LocalEntry>,
  syncedTree: Map<string, SyncedEntry>,
): Promise<void> {
  const { db, stats } = ctx;
  const downloads: DownloadOp[] = [];
  for (const op of ops) {
    switch (op.type) {
      case 'record':
        db.putSynced(synced(op.remote, op.local.ino, op.local.refs, op.local.mtime));
        if (op.local.placeholder)
          db.putPlaceholder({
            path: op.path,
            size: op.local.size,
            mtime: op.local.mtime,
            ino: op.local.ino,
            contentHash: op.remote.contentHash ?? '',
          });
        break;
      case 'forget':
        db.deleteSynced(op.path);
        break;
      case 'mkdirLocal': {
        await mkdir(join(ctx.root, op.path), { recursive: true });
        db.putSynced(synced(op.remote, null, null));
        break;
      }
      case 'renameLocal': {
        const to = join(ctx.root, op.path);
        if (!(await stillIs(ctx, op.expect)) || (await statEntry(to))) {
          stats.deferred++;
          break;
        }
        await mkdir(dirname(to), { recursive: true });
        await rename(join(ctx.root, op.expect.diskPath), to);
        db.tx(() => {
          db.deleteSynced(op.from);
          db.putSynced(synced(op.remote, op.expect.ino, op.expect.refs, op.expect.mtime));
          db.deleteScanCache(op.from);
          db.putScanCache({ ...op.expect, path: op.path, diskPath: op.path });
          const ph = db.placeholders().get(op.from);
          if (ph) {
            db.deletePlaceholder(op.from);
            db.putPlaceholder({ ...ph, path: op.path });
          }
        });
        stats.renamed++;
        break;
      }
      case 'download':
        downloads.push(op);
        break;
      case 'deleteLocal': {
        const abs = join(ctx.root, op.expect.diskPath);
        if (op.expect.kind === 'dir') {
          try {
            await rmdir(abs);
          } catch (e) {
            const code = (e as NodeJS.ErrnoException).code;
            // Still holds new local entries: forget it, so it goes back to the server as a new folder.
            if (code !== 'ENOENT' && code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
          }
          db.deleteSynced(op.path);
          stats.deleted++;
          break;
        }
        if (!(await stillIs(ctx, op.expect))) {
          stats.deferred++; // changed since the scan: the change wins next round
          break;
        }
        await unlink(abs).catch((e: NodeJS.ErrnoException) => {
          if (e.code !== 'ENOENT') throw e;
        });
        db.tx(() => {
          db.deleteSynced(op.path);
          db.deleteScanCache(op.path);
          db.deletePlaceholder(op.path);
        });
        stats.deleted++;
        break;
      }
    }
  }
  if (downloads.length) await runDownloads(ctx, downloads, local, syncedTree);
}

async function manifestsFor(
  ctx: EngineContext,
  ops: DownloadOp[],
  syncedTree: Map<string, SyncedEntry>,
): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const bases = new Map<string, Uint8Array>();
  const items: { id: string; base: string | null }[] = [];
  const seen = new Set<string>();
  for (const op of ops) {
    const id = op.remote.manifestId;
    if (!id || seen.has(id) || op.remote.size === 0) continue;
    seen.add(id);
    const s = syncedTree.get(op.path);
    const base = s?.refs && s.manifestId ? s.manifestId : null;
    if (base) bases.set(base, s!.refs!);
    items.push({ id, base });
  }
  for (let i = 0; i < items.length; i += 1000) {
    const got = await ctx.api.manifests(ctx.spaceId, items.slice(i, i + 1000), ctx.signal);
    for (const m of got) {
      const delta = fromBase64(m.delta);
      ctx.stats.bytesDown += m.delta.length;
      const refs = decodeManifestDelta(delta, m.base ? (bases.get(m.base) ?? null) : null);
      if (manifestIdOf(refs) !== m.id) throw new Error(`manifest ${m.id} does not match its id`);
      out.set(m.id, refs);
    }
  }
  return out;
}

async function runDownloads(
  ctx: EngineContext,
  ops: DownloadOp[],
  local: Map<string, LocalEntry>,
  syncedTree: Map<string, SyncedEntry>,
): Promise<void> {
  const manifests = await manifestsFor(ctx, ops, syncedTree);
  const byHash = new Map<string, LocalEntry>();
  for (const e of local.values())
    if (e.kind === 'file' && e.contentHash && e.refs && !e.placeholder) byHash.set(e.contentHash, e);
  // Small new files travel in groups: one chunk request per group instead of one per file.
  const groups: DownloadOp[][] = [];
  let group: DownloadOp[] = [];
  let groupBytes = 0;
  for (const op of ops) {
    const small = !op.expect && op.remote.size <= GROUP_FILE_MAX;
    if (!small) {
      groups.push([op]);
      continue;
    }
    if (group.length >= GROUP_FILES || groupBytes + op.remote.size > GROUP_BYTES) {
      groups.push(group);
      group = [];
      groupBytes = 0;
    }
    group.push(op);
    groupBytes += op.remote.size;
  }
  if (group.length) groups.push(group);

  const transfer = {
    root: ctx.root,
    api: ctx.api,
    limiter: ctx.down,
    signal: ctx.signal,
    onBytes: (n: number) => ctx.onProgress?.('down', n),
  };
  // Downloaded files are remembered as synced in batches: one state transaction per file cost more
  // than the file's own write for small files. A crash before a batch commits loses nothing: the
  // next pass finds those files identical on both sides and records them then.
  let recorded: (() => void)[] = [];
  const record = () => {
    const batch = recorded;
    recorded = [];
    if (batch.length) ctx.db.tx(() => batch.forEach((put) => put()));
  };
  const downloadOne = async (op: DownloadOp, have?: Map<string, Uint8Array>) => {
    const r = op.remote;
    const refs = r.size === 0 ? new Uint8Array(0) : manifests.get(r.manifestId ?? '');
    if (!refs || (r.size === 0 && r.contentHash !== EMPTY_SHA && r.contentHash)) {
      ctx.stats.errors.push(`${op.path}: no manifest for ${r.manifestId}`);
      return;
    }
    const sources: DownloadJob['sources'] = [];
    if (op.expect?.refs && !op.expect.placeholder)
      sources.push({ diskPath: op.expect.diskPath, refs: op.expect.refs });
    const same = byHash.get(r.contentHash ?? '');
    if (same && same.path !== op.path) sources.push({ diskPath: same.diskPath, refs: same.refs! });
    const job: DownloadJob = {
      path: op.path,
      diskPath: op.expect?.diskPath ?? op.path,
      contentHash: r.contentHash ?? EMPTY_SHA,
      size: r.size,
      mtime: r.mtime,
      refs,
      expect: op.expect,
      sources,
    };
    const res = await downloadFile({ ...transfer, have }, job);
    ctx.stats.bytesDown += res.bytesFetched;
    if (!res.written || !res.stat) {
      ctx.stats.deferred++;
      return;
    }
    const st = res.stat;
    recorded.push(() => {
      ctx.db.putSynced(synced(r, st.ino, refs, st.mtime));
      ctx.db.putScanCache({
        ...r,
        mtime: st.mtime,
        ino: st.ino,
        refs,
        diskPath: job.diskPath,
        stamp: st.stamp,
      });
      ctx.db.deletePlaceholder(op.path);
    });
    if (recorded.length >= RECORD_BATCH) record();
    ctx.stats.downloaded++;
  };
  let next = 0;
  const worker = async () => {
    while (next < groups.length) {
      const g = groups[next++];
      if (g.length === 1) {
        await downloadOne(g[0]);
        continue;
      }
      const chunks = new Map<string, number>();
      for (const op of g) {
        const refs = manifests.get(op.remote.manifestId ?? '');
        if (refs) for (const ref of unpackRefs(refs)) chunks.set(ref.hash, ref.size);
      }
      const have = new Map<string, Uint8Array>();
      if (chunks.size) {
        const n = await fetchChunks(transfer, chunks, have, false);
        ctx.stats.bytesDown += n;
      }
      let i = 0;
      const inGroup = async () => {
        while (i < g.length) await downloadOne(g[i++], have);
      };
      await Promise.all(Array.from({ length: Math.min(GROUP_CONCURRENCY, g.length) }, inGroup));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(ctx.concurrency, groups.length) }, worker));
  } finally {
    record();
  }
}
