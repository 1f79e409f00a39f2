// Writes remote files into the sync root safely: the content is assembled in .ferry/tmp from chunks
// the device already has (the old version of the file, or any local file with the same content)
// plus the chunks fetched from the server, hash-verified, fsynced, and renamed into place only if
// the local path still holds exactly what the plan saw — otherwise it is left alone (the next pass
// sends the local change and the server's conflict rule keeps both).

import { createHash, randomUUID } from 'node:crypto';
import { mkdir, open, rename, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decompressChunk } from '@ferry/core/chunk-compressor';
import { decodeFrames, FRAME_ZSTD, type SyncApi } from '../api/sync-api.ts';
import type { BandwidthLimiter } from './bandwidth-limiter.ts';
import { unpackRefs, type ChunkRef } from './chunk-refs.ts';
import { statEntry } from './scanner.ts';
import type { LocalEntry } from './tree-types.ts';

export const TMP_DIR = '.ferry/tmp';
const GET_BATCH = 1000;
const GET_BYTES = 8 * 1024 * 1024;

export interface DownloadJob {
  path: string;
  diskPath: string;
  contentHash: string;
  size: number;
  mtime: number;
  refs: Uint8Array;
  /** What the local path must still hold for the result to be written (null: nothing). */
  expect: LocalEntry | null;
  /** Local files whose bytes may supply chunks (their refs describe their current content). */
  sources: { diskPath: string; refs: Uint8Array; stamp?: string }[];
}

export interface DownloadOutcome {
  written: boolean;
  bytesFetched: number;
  /** The on-disk result, when written. */
  stat?: { size: number; mtime: number; ino: number; stamp: string };
}

export interface DownloaderOptions {
  root: string;
  api: SyncApi;
  limiter?: BandwidthLimiter;
  signal?: AbortSignal;
  onBytes?: (n: number) => void;
  /** Chunks fetched ahead (hash-verified), e.g. for a batch of small files in one request. */
  have?: Map<string, Uint8Array>;
}

export async function fetchChunks(
  o: DownloaderOptions,
  hashes: string[],
  into: Map<string, Uint8Array>,
): Promise<number> {
  let bytes = 0;
  for (let i = 0; i < hashes.length; i += GET_BATCH) {
    const body = await o.api.getChunks(hashes.slice(i, i + GET_BATCH), { compress: true, signal: o.signal });
    bytes += body.length;
    o.onBytes?.(body.length);
    await o.limiter?.take(body.length);
    for (const f of decodeFrames(body)) {
      const data = f.flags & FRAME_ZSTD ? decompressChunk(f.payload) : f.payload;
      if (createHash('sha256').update(data).digest('hex') !== f.hash)
        throw new Error(`chunk ${f.hash} from the server does not match its hash`);
      into.set(f.hash, data);
    }
  }
  return bytes;
}

export async function downloadFile(o: DownloaderOptions, job: DownloadJob): Promise<DownloadOutcome> {
  const refs = unpackRefs(job.refs);
  // Where each needed chunk can be read locally.
  const local = new Map<string, { diskPath: string; ref: ChunkRef }>();
  for (const s of job.sources)
    for (const r of unpackRefs(s.refs))
      if (!local.has(r.hash)) local.set(r.hash, { diskPath: s.diskPath, ref: r });
  const fetched = new Map<string, Uint8Array>();
  const have = o.have ?? new Map<string, Uint8Array>();
  const need = [...new Set(refs.filter((r) => !local.has(r.hash) && !have.has(r.hash)).map((r) => r.hash))];
  let bytesFetched = 0;

  const tmpDir = join(o.root, TMP_DIR);
  const tmp = join(tmpDir, `${randomUUID()}.ferry-tmp`);
  const handles = new Map<string, FileHandle>();
  const out = await inDir(tmpDir, () => open(tmp, 'w'));
  try {
    const whole = createHash('sha256');
    // Fetch in windows of ~8 MiB so memory stays bounded for big files.
    let cursor = 0;
    const fillWindow = async (from: number) => {
      fetched.clear();
      const want: string[] = [];
      let bytes = 0;
      for (let i = from; i < refs.length && bytes < GET_BYTES; i++) {
        const r = refs[i];
        if (!local.has(r.hash) && !have.has(r.hash) && !want.includes(r.hash)) {
          want.push(r.hash);
          bytes += r.size;
        }
      }
      if (want.length) bytesFetched += await fetchChunks(o, want, fetched);
    };
    if (need.length) await fillWindow(0);
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      let data: Uint8Array | undefined = fetched.get(r.hash) ?? have.get(r.hash);
      const src = data ? undefined : local.get(r.hash);
      if (src) {
        let fh = handles.get(src.diskPath);
        if (!fh) {
          fh = await open(join(o.root, src.diskPath), 'r').catch(() => undefined);
          if (fh) handles.set(src.diskPath, fh);
        }
        if (fh) {
          const buf = Buffer.allocUnsafe(r.size);
          const { bytesRead } = await fh.read(buf, 0, r.size, src.ref.offset);
          if (bytesRead === r.size && createHash('sha256').update(buf).digest('hex') === r.hash) data = buf;
        }
        if (!data) {
          // The local source changed since the scan: fetch this chunk after all.
          local.delete(r.hash);
          const one = new Map<string, Uint8Array>();
          bytesFetched += await fetchChunks(o, [r.hash], one);
          data = one.get(r.hash);
        }
      }
      if (!data) {
        if (i >= cursor) {
          cursor = i;
          await fillWindow(i);
          data = fetched.get(r.hash);
        }
        if (!data) throw new Error(`chunk ${r.hash} of ${job.path} is unavailable`);
      }
      whole.update(data);
      await out.write(data);
    }
    if (whole.digest('hex') !== job.contentHash)
      throw new Error(`downloaded content of ${job.path} does not match its hash`);
    await out.sync();
    await out.close();
    await utimes(tmp, new Date(job.mtime), new Date(job.mtime));

    // Only replace what the plan saw.
    const target = join(o.root, job.diskPath);
    const now = await statEntry(target);
    const expected = job.expect;
    const unchanged =
      expected === null
        ? now === null
        : now !== null &&
          (expected.stamp
            ? now.stamp === expected.stamp
            : now.size === expected.size && now.mtime === expected.mtime);
    if (!unchanged) {
      await unlink(tmp).catch(() => undefined);
      return { written: false, bytesFetched };
    }
    await inDir(dirname(target), () => rename(tmp, target));
    const st = await statEntry(target);
    return {
      written: true,
      bytesFetched,
      stat: st ? { size: st.size, mtime: st.mtime, ino: st.ino, stamp: st.stamp } : undefined,
    };
  } catch (e) {
    await out.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    for (const fh of handles.values()) await fh.close().catch(() => undefined);
  }
}

/**
 * Runs `op` (which creates an entry in `dir`), creating `dir` first only when `op` finds it missing:
 * a recursive mkdir before every file of a pass was several syscalls each, and folders exist.
 */
async function inDir<T>(dir: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    await mkdir(dir, { recursive: true });
    return op();
  }
}
