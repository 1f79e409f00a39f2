// Picks the local-disk ChunkStore for a data dir: PackChunkStore (the default), or FsChunkStore for
// a chunk dir an earlier Ferry laid out as one file per chunk (DIR/ab/<hash>), which it keeps reading.

import { readdir } from 'node:fs/promises';
import type { ChunkStore } from './chunk-store.ts';
import { FsChunkStore } from './fs-chunk-store.ts';
import { PackChunkStore } from './pack-chunk-store.ts';

export async function openLocalChunkStore(dir: string): Promise<ChunkStore> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  const legacy = !entries.includes('packs') && entries.some((e) => /^[0-9a-f]{2}$/.test(e));
  return legacy ? new FsChunkStore(dir) : new PackChunkStore(dir);
}
