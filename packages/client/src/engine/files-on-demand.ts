// Files on demand. `offload` frees a synced file's space: it becomes a placeholder — a sparse file
// of the same size and mtime with no data blocks, plus a row (path, size, mtime, inode, content
// hash) in the placeholders table of .ferry/state.db, so scans report the content it stands for.
// `hydrate` downloads the bytes back (hash-verified, same safe replace as any download). Writing
// to a placeholder makes it an ordinary changed file again.

import { open, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeManifestDelta } from '@ferry/core/manifest-delta';
import { manifestIdOf } from './chunk-refs.ts';
import { hashFile } from './file-hasher.ts';
import { downloadFile } from './file-downloader.ts';
import { statEntry } from './scanner.ts';
import type { SyncEngine } from './sync-engine.ts';

function rel(engine: SyncEngine, path: string): string {
  const abs = path.startsWith('/') ? path : join(process.cwd(), path);
  if (!abs.startsWith(engine.root + '/')) throw new Error(`${path} is not inside ${engine.root}`);
  return abs.slice(engine.root.length).normalize('NFC');
}

export async function offload(engine: SyncEngine, path: string): Promise<{ path: string; freed: number }> {
  const p = rel(engine, path);
  const s = engine.db.synced().get(p);
  if (!s || s.kind !== 'file' || !s.contentHash)
    throw new Error(`${p} is not a synced file: run "ferry sync" first`);
  if (engine.db.placeholders().has(p)) return { path: p, freed: 0 };
  const abs = join(engine.root, p);
  const h = await hashFile(abs);
  if (h.contentHash !== s.contentHash)
    throw new Error(`${p} has changes that are not on the server yet: sync before offloading`);
  const fh = await open(abs, 'r+');
  try {
    await fh.truncate(0);
    await fh.truncate(s.size); // sparse: the size stays, the blocks go
    await fh.sync();
  } finally {
    await fh.close();
  }
  const mtime = new Date(s.mtime);
  await utimes(abs, mtime, mtime);
  const st = await statEntry(abs);
  engine.db.putPlaceholder({
    path: p,
    size: s.size,
    mtime: st!.mtime,
    ino: st!.ino,
    contentHash: s.contentHash,
  });
  return { path: p, freed: s.size };
}

export async function hydrate(engine: SyncEngine, path: string): Promise<{ path: string; bytes: number }> {
  const p = rel(engine, path);
  const ph = engine.db.placeholders().get(p);
  if (!ph) return { path: p, bytes: 0 };
  const s = engine.db.synced().get(p);
  if (!s?.manifestId) throw new Error(`${p}: no synced manifest to hydrate from`);
  let refs = s.refs;
  if (!refs) {
    const delta = await engine.client.sync.manifest(engine.spaceId, s.manifestId);
    refs = decodeManifestDelta(delta, null);
    if (manifestIdOf(refs) !== s.manifestId) throw new Error(`manifest of ${p} does not match its id`);
  }
  const now = await statEntry(join(engine.root, p));
  if (!now) throw new Error(`${p} is gone`);
  const res = await downloadFile(
    { root: engine.root, api: engine.client.sync },
    {
      path: p,
      diskPath: p,
      contentHash: ph.contentHash,
      size: ph.size,
      mtime: s.mtime,
      refs,
      expect: {
        path: p,
        kind: 'file',
        size: ph.size,
        mtime: ph.mtime,
        contentHash: ph.contentHash,
        manifestId: s.manifestId,
        ino: ph.ino,
        refs: null,
        diskPath: p,
        stamp: now.stamp,
      },
      sources: [],
    },
  );
  if (!res.written || !res.stat) throw new Error(`${p} changed while hydrating; try again`);
  const st = res.stat;
  engine.db.tx(() => {
    engine.db.deletePlaceholder(p);
    engine.db.putSynced({ ...s, ino: st.ino, mtime: st.mtime, refs });
    engine.db.putScanCache({
      path: p,
      kind: 'file',
      size: st.size,
      mtime: st.mtime,
      contentHash: ph.contentHash,
      manifestId: s.manifestId,
      ino: st.ino,
      refs,
      diskPath: p,
      stamp: st.stamp,
    });
  });
  return { path: p, bytes: res.bytesFetched };
}
