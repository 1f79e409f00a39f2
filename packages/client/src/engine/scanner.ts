// Walks a sync root and returns the local tree. A file whose size, mtime, ctime and inode match the
// scan cache keeps its cached hash; others are read once (hash + chunks). Offloaded placeholders
// report the content they stand for. Names are normalized to NFC; the on-disk name is kept.

import { lstat, readdir } from 'node:fs/promises';
import type { Stats, BigIntStats } from 'node:fs';
import { join } from 'node:path';
import { hashFile } from './file-hasher.ts';
import { IgnoreRules, STATE_DIR } from './ignore-rules.ts';
import type { StateDb } from './state-db.ts';
import type { LocalEntry } from './tree-types.ts';

export interface ScanOptions {
  /** Files hashed at once (I/O overlaps hashing). */
  concurrency?: number;
  onHashed?: (bytes: number) => void;
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

/** Reads the stat fields the engine keeps: size, ms mtime, inode and the change stamp. */
export async function statEntry(
  file: string,
): Promise<{ st: BigIntStats; size: number; mtime: number; ino: number; stamp: string } | null> {
  try {
    const st = await lstat(file, { bigint: true });
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
    rootSt = await lstat(root);
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

  const walk = async (diskRel: string, rel: string): Promise<void> => {
    let names: string[];
    try {
      names = await readdir(join(root, diskRel));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    // The entries of one folder are stat'ed together (one at a time costs a thread-pool round trip
    // per file), then handled in listing order.
    const stats = await Promise.all(
      names.map((name) =>
        rel === '' && name === STATE_DIR
          ? Promise.resolve(null)
          : lstat(join(root, `${diskRel}/${name}`), { bigint: true }).catch(() => null),
      ),
    );
    for (const [i, name] of names.entries()) {
      if (rel === '' && name === STATE_DIR) continue;
      const diskPath = `${diskRel}/${name}`;
      const path = `${rel}/${name.normalize('NFC')}`;
      if (out.has(path)) continue; // two on-disk spellings of one NFC name: the first one wins
      const st = stats[i];
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
        await walk(diskPath, path);
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
  await walk('', '');

  let next = 0;
  const worker = async () => {
    while (next < toHash.length) {
      const item = toHash[next++];
      let h = null;
      let after = null;
      for (let attempt = 0; attempt < 3 && !h; attempt++) {
        try {
          const st = attempt === 0 ? item.st : await lstat(join(root, item.disk), { bigint: true });
          const r = await hashFile(join(root, item.disk), Number(st.size));
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
