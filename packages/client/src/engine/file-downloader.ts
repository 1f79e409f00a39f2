// Writes remote files into the sync root safely: the content is assembled in .ferry/tmp from chunks
// the device already has (the old version of the file, or any local file with the same content)
// plus the chunks fetched from the server, hash-verified, fsynced, and renamed into place only if
// the local path still holds exactly what the plan saw — otherwise it is left alone (the next pass
// sends the local change and the server's conflict rule keeps both).

import { randomUUID } from 'node:crypto';
import { closeSync, fsync, futimesSync, open as openFd, renameSync, writeSync } from 'node:fs';
import { mkdir, open, unlink, utimes, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { decompressChunk } from '@ferry/core/chunk-compressor';
import { FRAME_ZSTD, type SyncApi } from '../api/sync-api.ts';
import type { BandwidthLimiter } from './bandwidth-limiter.ts';
import { unpackRefs, type ChunkRef } from './chunk-refs.ts';
import { sha256, SMALL_FILE } from './file-hasher.ts';
import { streamSha256 } from './parallel-sha256.ts';
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
  /**
   * Chunks fetched ahead, e.g. for a batch of small files in one request. Not verified one by one:
   * the file's hash is checked, and the careful pass checks each chunk (see downloadFile).
   */
  have?: Map<string, Uint8Array>;
}

/**
 * Fetches chunks (hash → size) into `into`; resolves to the bytes received. `verify`: hash each
 * one (a caller that checks a whole file's hash over them need not: see downloadFile).
 */
export async function fetchChunks(
  o: DownloaderOptions,
  chunks: Map<string, number>,
  into: Map<string, Uint8Array>,
  verify: boolean,
): Promise<number> {
  let bytes = 0;
  const hashes = [...chunks.keys()];
  for (let i = 0; i < hashes.length; i += GET_BATCH) {
    const got = await o.api.getChunks(hashes.slice(i, i + GET_BATCH), { compress: true, signal: o.signal });
    bytes += got.bytes;
    o.onBytes?.(got.bytes);
    await o.limiter?.take(got.bytes);
    for (const f of got.frames) {
      const data =
        f.flags & FRAME_ZSTD ? decompressChunk(f.payload, undefined, chunks.get(f.hash)) : f.payload;
      if (verify && sha256(data) !== f.hash)
        throw new Error(`chunk ${f.hash} from the server does not match its hash`);
      into.set(f.hash, data);
    }
  }
  return bytes;
}

/**
 * The fast path's file did not hash to the content hash: a local source changed after the plan, or a
 * chunk came wrong. Assemble again, checking every chunk.
 */
class FastPathMismatch extends Error {}

const BLOCK = 4 * 1024 * 1024;
const EARLY_SYNC = 16 * 1024 * 1024;

export async function downloadFile(o: DownloaderOptions, job: DownloadJob): Promise<DownloadOutcome> {
  const fetchedBytes = { n: 0 };
  try {
    return await assemble(o, job, false, fetchedBytes);
  } catch (e) {
    if (!(e instanceof FastPathMismatch)) throw e;
    return assemble(o, job, true, fetchedBytes);
  }
}

/**
 * Writes the file into .ferry/tmp in 4 MiB blocks (two, used in turn: one is written while the
 * next fills; a small file is one block, written at the end by writeSmall), reading runs of chunks
 * that lie back to back in a local file with one read each.
 * The fast path trusts local sources and the chunks it is handed or fetches, and checks the whole
 * file's hash at the end; if that fails (a source changed since the scan, or a chunk came wrong) the
 * `careful` pass checks every chunk, fetching again those that do not match.
 */
async function assemble(
  o: DownloaderOptions,
  job: DownloadJob,
  careful: boolean,
  fetchedBytes: { n: number },
): Promise<DownloadOutcome> {
  const refs = unpackRefs(job.refs);
  // Where each needed chunk can be read locally.
  const local = new Map<string, { diskPath: string; ref: ChunkRef }>();
  for (const s of job.sources)
    for (const r of unpackRefs(s.refs))
      if (!local.has(r.hash)) local.set(r.hash, { diskPath: s.diskPath, ref: r });
  const fetched = new Map<string, Uint8Array>();
  const have = o.have ?? new Map<string, Uint8Array>();
  const fetchOne = async ({ hash, size }: ChunkRef): Promise<Uint8Array> => {
    const one = new Map<string, Uint8Array>();
    fetchedBytes.n += await fetchChunks(o, new Map([[hash, size]]), one, true);
    const data = one.get(hash);
    if (!data) throw new Error(`chunk ${hash} of ${job.path} is unavailable`);
    return data;
  };

  const tmpDir = join(o.root, TMP_DIR);
  const tmp = join(tmpDir, `${randomUUID()}.ferry-tmp`);
  const handles = new Map<string, FileHandle | null>();
  const source = async (diskPath: string) => {
    if (!handles.has(diskPath))
      handles.set(diskPath, await open(join(o.root, diskPath), 'r').catch(() => null));
    return handles.get(diskPath)!;
  };
  // A small file is gathered whole and written with synchronous calls (see writeSmall); a bigger one
  // streams into its temp file.
  const size = refs.reduce((n, r) => n + r.size, 0);
  const small = size <= SMALL_FILE;
  const out = small ? null : await inDir(tmpDir, () => open(tmp, 'w'));
  let content: Uint8Array | undefined;
  let writing: Promise<unknown> = Promise.resolve();
  let syncing: Promise<unknown> = Promise.resolve();
  // A big file's hash is computed on the hashing thread from the blocks themselves; a block is
  // filled again only once it is released.
  const whole = streamSha256(size);
  try {
    const blocks = Array.from({ length: small ? 1 : 2 }, () => whole.alloc(Math.min(BLOCK, size)));
    let turn = 0;
    let block = blocks[0];
    let fill = 0;
    // Written data is flushed to disk in the background every 16 MiB, so that the final fsync has
    // little left to wait for (100 MB: 260–380 ms written then synced, 160–170 ms overlapped).
    let unsynced = 0;
    const flush = async () => {
      const b = block.subarray(0, fill);
      whole.update(b);
      await writing;
      if (!out) {
        content = b; // a small file is one block
        return;
      }
      writing = out.write(b);
      unsynced += fill;
      if (unsynced >= EARLY_SYNC) {
        unsynced = 0;
        syncing = Promise.all([syncing, writing]).then(() => out.datasync());
      }
      turn ^= 1;
      block = blocks[turn];
      await whole.released(block.buffer);
      fill = 0;
    };
    // Chunks neither local nor handed in are fetched in windows of ~8 MiB, so memory stays bounded.
    const fillWindow = async (from: number) => {
      fetched.clear();
      const want = new Map<string, number>();
      let bytes = 0;
      for (let i = from; i < refs.length && bytes < GET_BYTES; i++) {
        const r = refs[i];
        if (!local.has(r.hash) && !have.has(r.hash) && !want.has(r.hash)) {
          want.set(r.hash, r.size);
          bytes += r.size;
        }
      }
      if (want.size) fetchedBytes.n += await fetchChunks(o, want, fetched, careful);
    };
    for (let i = 0; i < refs.length; i++) {
      const r = refs[i];
      if (fill + r.size > block.length) await flush();
      const src = local.get(r.hash);
      const fh = src && (await source(src.diskPath));
      if (src && fh) {
        // The run of chunks that follow this one in the same file, as far as the block has room.
        let j = i + 1;
        let len = r.size;
        for (; j < refs.length; j++) {
          const next = local.get(refs[j].hash);
          if (next?.diskPath !== src.diskPath || next.ref.offset !== src.ref.offset + len) break;
          if (fill + len + refs[j].size > block.length) break;
          len += refs[j].size;
        }
        const { bytesRead } = await fh.read(block, fill, len, src.ref.offset);
        if (careful) {
          for (let k = i, at = fill; k < j; at += refs[k++].size) {
            const c = refs[k];
            if (at + c.size <= fill + bytesRead && sha256(block.subarray(at, at + c.size)) === c.hash)
              continue;
            local.delete(c.hash);
            block.set(await fetchOne(c), at);
          }
        } else if (bytesRead !== len) throw new FastPathMismatch();
        fill += len;
        i = j - 1;
        continue;
      }
      let data = have.get(r.hash) ?? fetched.get(r.hash);
      if (careful && data && sha256(data) !== r.hash) data = undefined;
      if (!data) {
        await fillWindow(i);
        data = fetched.get(r.hash);
      }
      // A chunk whose local source vanished, fetched on its own.
      data ??= await fetchOne(r);
      block.set(data, fill);
      fill += r.size;
    }
    if (fill > 0) await flush();
    await writing;
    await syncing;
    if ((await whole.digest()) !== job.contentHash) {
      if (!careful) throw new FastPathMismatch();
      throw new Error(`downloaded content of ${job.path} does not match its hash`);
    }
    if (out) {
      await out.sync();
      await out.close();
      await utimes(tmp, new Date(job.mtime), new Date(job.mtime));
    } else await writeSmall(tmpDir, tmp, content ?? new Uint8Array(0), job.mtime);

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
      return { written: false, bytesFetched: fetchedBytes.n };
    }
    await inDir(dirname(target), async () => renameSync(tmp, target));
    const st = await statEntry(target);
    return {
      written: true,
      bytesFetched: fetchedBytes.n,
      stat: st ? { size: st.size, mtime: st.mtime, ino: st.ino, stamp: st.stamp } : undefined,
    };
  } catch (e) {
    await writing.catch(() => undefined);
    await syncing.catch(() => undefined);
    await out?.close().catch(() => undefined);
    await unlink(tmp).catch(() => undefined);
    throw e;
  } finally {
    whole.drop();
    for (const fh of handles.values()) await fh?.close().catch(() => undefined);
  }
}

/**
 * Writes a small file's temp copy: write, mtime and close are synchronous (microseconds each into
 * the page cache, where a promise-based call is a thread-pool round trip of several times the CPU,
 * as the scanner measured for reads). Creating the file and the fsync go to the thread pool: both
 * wait on the file system (creating a file took 270–640 µs on one machine's ext4, 1 s of the event
 * loop for 5,000 files), and concurrent ones overlap.
 */
async function writeSmall(tmpDir: string, tmp: string, data: Uint8Array, mtime: number): Promise<void> {
  const fd = await inDir(tmpDir, () => openForWrite(tmp));
  try {
    for (let at = 0; at < data.length;) at += writeSync(fd, data, at);
    futimesSync(fd, new Date(mtime), new Date(mtime));
    await new Promise<void>((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
  } finally {
    closeSync(fd);
  }
}

/** fs.open(path, 'w') on the thread pool, as a bare descriptor (no FileHandle to close later). */
function openForWrite(path: string): Promise<number> {
  return new Promise((resolve, reject) => openFd(path, 'w', (e, fd) => (e ? reject(e) : resolve(fd))));
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
