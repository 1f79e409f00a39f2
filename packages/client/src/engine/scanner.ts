// Walks a sync root and returns the local tree. A file whose size, mtime, ctime and inode match the
// scan cache keeps its cached hash; others are read once (hash + chunks). Offloaded placeholders
// report the content they stand for. Names are normalized to NFC; the on-disk name is kept.

import { lstatSync, readdirSync, type Stats, type BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { unpackRefs } from './chunk-refs.ts';
import { hashFile, type ChunkSink } from './file-hasher.ts';
import { IgnoreRules, STATE_DIR } from './ignore-rules.ts';
import type { StateDb } from './state-db.ts';
import type { LocalEntry } from './tree-types.ts';

export interface ScanOptions {
  /** Files hashed at once (I/O overlaps hashing). */
  concurrency?: number;
  onHashed?: (bytes: number) => void;
  /** Gets the chunks of every file read, except those its synced version already has. */
  upload?: ChunkSink;
}

export class SyncRootMissingError extends Error {
  constructor(root: string) {
    super(`sync root ${root} is missing or not a folder: sync halted (nothing is deleted)`);
    this.name = 'SyncRootMissingError';
  }
}

export function stampOf(st: BigIntStats): string {
  return `${st.size}:${st.mtimeNs}:${st.ctimeNs}:${st.ino}`;
}

// Stats and listings are synchronous: a local lstat takes microseconds, while a promise-based
// one is a thread-pool round trip that costs about five times the CPU (see SMALL_FILE).

/** Reads the stat fields the engine keeps: size, ms mtime, inode and the change stamp. */
export async function statEntry(
  file: string,
): Promise<{ st: BigIntStats; size: number; mtime: number; ino: number; stamp: string } | null> {
  try {
    const st = lstatSync(file, { bigint: true });
    return { st, size: Number(st.size), mtime: Number(st.mtimeMs), ino: Number(st.ino), stamp: stampOf(st) };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

export async function scanTree(
  root: string,
  db: StateDb,
  o: ScanOptions = {},
): Promise<Map<string, LocalEntry>> {
  let rootSt: Stats;
  try {
    rootSt = lstatSync(root);
  } catch {
    throw new SyncRootMissingError(root);
  }
  if (!rootSt.isDirectory()) throw new SyncRootMissingError(root);
  const rules = IgnoreRules.load(root);
  const cache = db.scanCache();
  const placeholders = db.placeholders();
  const synced = db.synced();
  const out = new Map<string, LocalEntry>();
  const toHash: { path: string; disk: string; st: BigIntStats }[] = [];

  const walk = (diskRel: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(join(root, diskRel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    for (const name of names) {
      if (rel === '' && name === STATE_DIR) continue;
      const diskPath = `${diskRel}/${name}`;
      const path = `${rel}/${name.normalize('NFC')}`;
      if (out.has(path)) continue; // two on-disk spellings of one NFC name: the first one wins
      let st: BigIntStats | undefined;
      try {
        st = lstatSync(join(root, diskPath), { bigint: true, throwIfNoEntry: false });
      } catch {
        continue; // unreadable: skipped, as if absent
      }
      if (!st) continue; // vanished while walking
      if (st.isDirectory()) {
        if (rules.ignores(path, true)) continue;
        out.set(path, {
          path,
          kind: 'dir',
          size: 0,
          mtime: 0,
          contentHash: null,
          manifestId: null,
          ino: Number(st.ino),
          refs: null,
          diskPath,
        });
        walk(diskPath, path);
      } else if (st.isFile()) {
        if (rules.ignores(path)) continue;
        const stamp = stampOf(st);
        const ph = placeholders.get(path);
        if (
          ph &&
          ph.size === Number(st.size) &&
          ph.ino === Number(st.ino) &&
          ph.mtime === Number(st.mtimeMs)
        ) {
          const s = synced.get(path);
          out.set(path, {
            path,
            kind: 'file',
            size: ph.size,
            mtime: ph.mtime,
            contentHash: ph.contentHash,
            manifestId: s?.manifestId ?? null,
            ino: ph.ino,
            refs: s?.refs ?? null,
            diskPath,
            stamp,
            placeholder: true,
          });
          continue;
        }
        const c = cache.get(path);
        if (c && c.stamp === stamp && c.kind === 'file') {
          out.set(path, { ...c, diskPath });
        } else {
          toHash.push({ path, disk: diskPath, st });
        }
      }
      // symlinks, sockets and devices are not synced
    }
  };
  walk('', '');

  // The chunks of a file's synced version are on the server: only its new ones go to the sink.
  const sinkFor = (path: string): ChunkSink => {
    const sink = o.upload!;
    const refs = synced.get(path)?.refs;
    if (!refs) return sink;
    const known = new Set(unpackRefs(refs).map((r) => r.hash));
    return {
      offer: (hash, bytes) => {
        if (!known.has(hash)) sink.offer(hash, bytes);
      },
      ready: () => sink.ready(),
    };
  };
  let next = 0;
  const worker = async () => {
    while (next < toHash.length) {
      const item = toHash[next++];
      const sink = o.upload && sinkFor(item.path);
      let h = null;
      let after = null;
      for (let attempt = 0; attempt < 3 && !h; attempt++) {
        try {
          const st = attempt === 0 ? item.st : lstatSync(join(root, item.disk), { bigint: true });
          const r = await hashFile(join(root, item.disk), Number(st.size), sink);
          // Re-stat: a file written while we read it is read again.
          after = await statEntry(join(root, item.disk));
          if (after && after.stamp === stampOf(st) && after.size === r.size) h = r;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') break;
          throw e;
        }
      }
      if (!after) continue; // deleted while scanning
      if (!h) {
        // Still being written: a file entry without a hash makes the planner leave it alone this pass.
        out.set(item.path, {
          path: item.path,
          kind: 'file',
          size: after.size,
          mtime: after.mtime,
          contentHash: null,
          manifestId: null,
          ino: after.ino,
          refs: null,
          diskPath: item.disk,
        });
        continue;
      }
      const entry: LocalEntry = {
        path: item.path,
        kind: 'file',
        size: h.size,
        mtime: after.mtime,
        contentHash: h.contentHash,
        manifestId: h.manifestId,
        ino: after.ino,
        refs: h.refs,
        diskPath: item.disk,
        stamp: after.stamp,
      };
      out.set(item.path, entry);
      o.onHashed?.(h.size);
    }
  };
  // Many files in flight: for small files the time goes to open/read/close round trips through
  // libuv's thread pool, not to hashing; a big file is still read sequentially by its worker.
  await Promise.all(Array.from({ length: Math.min(o.concurrency ?? 16, toHash.length) }, worker));

  db.tx(() => {
    for (const e of out.values())
      if (e.kind === 'file' && !e.placeholder && e.contentHash && cache.get(e.path)?.stamp !== e.stamp)
        db.putScanCache(e);
    for (const p of cache.keys()) if (!out.has(p)) db.deleteScanCache(p);
  });
  return out;
}
