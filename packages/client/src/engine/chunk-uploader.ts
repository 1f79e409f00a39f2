// Sends the chunks the server lacks: asks /chunks/missing about the hashes that are not already in
// a base version's manifest, then streams the missing ones in framed batches (zstd where it pays),
// a few requests in flight. Every chunk is re-hashed as it is read, so a file that changed since the
// scan is reported back instead of being sent half-old. Chunks already on the server are never re-sent,
// which is what makes an interrupted upload resume where it stopped.

import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { frameParts, FRAME_HEADER, FRAME_ZSTD, type ChunkFrame, type SyncApi } from '../api/sync-api.ts';
import { looksIncompressible } from '@ferry/core/entropy';
import { ChunkCompressor } from '@ferry/core/chunk-compressor';
import type { BandwidthLimiter } from './bandwidth-limiter.ts';
import { unpackRefs } from './chunk-refs.ts';
import { sha256, SMALL_FILE } from './file-hasher.ts';

export interface UploadItem {
  /** Key the caller uses to match results (usually the Ferry path). */
  key: string;
  diskPath: string;
  refs: Uint8Array;
  /** Hashes the server certainly has (the base version's chunks). */
  known?: Uint8Array | null;
}

export interface UploadOptions {
  /** Chunks the server certainly has for this user (sent during the scan, see ScanUploader). */
  stored?: ReadonlySet<string>;
  limiter?: BandwidthLimiter;
  signal?: AbortSignal;
  /** Bytes per request body. */
  batchBytes?: number;
  inFlight?: number;
  onBytes?: (sent: number) => void;
}

export interface UploadReport {
  bytesSent: number;
  chunksSent: number;
  /** Keys of files whose bytes changed under us (re-plan them). */
  changed: Set<string>;
}

const MISSING_BATCH = 10_000;
/** Bytes read at once from a file whose missing chunks lie back to back. */
const RUN_BYTES = 4 * 1024 * 1024;
const FILES_IN_FLIGHT = 8;

/**
 * Bytes of chunks per upload request: 8 MiB, or a quarter second's worth under a bandwidth limit,
 * which keeps the rate smooth (one 8 MiB body would pass at once and only the next one would wait).
 */
export function uploadBodyBytes(limiter?: BandwidthLimiter): number {
  const limited = limiter && !limiter.unlimited ? limiter.bytesPerSecond : 0;
  return limited ? Math.min(8 << 20, Math.max(64 << 10, limited >> 2)) : 8 << 20;
}

/**
 * The frame that carries one chunk: zstd when that saves at least 1/16 (`attempt` false: no try),
 * else the bytes as they are.
 */
export async function chunkFrame(
  compressor: ChunkCompressor,
  hash: string,
  bytes: Uint8Array,
  attempt = true,
): Promise<ChunkFrame> {
  if (attempt && bytes.length >= 512 && !looksIncompressible(bytes)) {
    const z = await compressor.compress(bytes);
    if (z.length < bytes.length - (bytes.length >> 4)) return { hash, flags: FRAME_ZSTD, payload: z };
  }
  return { hash, flags: 0, payload: bytes };
}

export async function uploadMissingChunks(
  api: SyncApi,
  root: string,
  items: UploadItem[],
  o: UploadOptions = {},
): Promise<UploadReport> {
  const report: UploadReport = { bytesSent: 0, chunksSent: 0, changed: new Set() };
  const where = new Map<string, { item: UploadItem; offset: number; size: number }>();
  for (const item of items) {
    const known = new Set(item.known ? unpackRefs(item.known).map((r) => r.hash) : []);
    for (const r of unpackRefs(item.refs))
      if (!known.has(r.hash) && !o.stored?.has(r.hash) && !where.has(r.hash))
        where.set(r.hash, { item, offset: r.offset, size: r.size });
  }
  if (where.size === 0) return report;
  const hashes = [...where.keys()];
  const missing: string[] = [];
  for (let i = 0; i < hashes.length; i += MISSING_BATCH)
    missing.push(...(await api.missingChunks(hashes.slice(i, i + MISSING_BATCH), o.signal)));
  if (missing.length === 0) return report;

  // Read file by file, in offset order, so disks read sequentially.
  const byFile = new Map<UploadItem, { hash: string; offset: number; size: number }[]>();
  for (const h of missing) {
    const w = where.get(h)!;
    const list = byFile.get(w.item) ?? [];
    list.push({ hash: h, offset: w.offset, size: w.size });
    byFile.set(w.item, list);
  }
  const batchBytes = o.batchBytes ?? uploadBodyBytes(o.limiter);
  const maxInFlight = o.inFlight ?? 3;
  const inFlight = new Set<Promise<void>>();
  // Reused zstd contexts: a fresh one per chunk cost more main-thread time than the compression.
  const compressor = new ChunkCompressor();
  let failure: unknown;
  let frames: ChunkFrame[] = [];
  let pending = 0;
  const flush = async () => {
    if (frames.length === 0) return;
    // The payloads go to the socket as they are (no joined copy of the body).
    const parts = frameParts(frames);
    const size = pending;
    frames = [];
    pending = 0;
    await o.limiter?.take(size);
    const p = api.uploadChunks(parts, o.signal).then(
      () => {
        report.bytesSent += size;
        o.onBytes?.(size);
      },
      (e: unknown) => {
        failure ??= e;
      },
    );
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
    while (inFlight.size >= maxInFlight) await Promise.race(inFlight);
    if (failure) throw failure;
  };

  const files = [...byFile];
  let nextFile = 0;
  const readFiles = async () => {
    while (nextFile < files.length && !failure) {
      const [item, list] = files[nextFile++];
      list.sort((a, b) => a.offset - b.offset);
      let fh: RangeReader;
      try {
        const bytes = list.reduce((n, c) => n + c.size, 0);
        fh = await openRanges(join(root, item.diskPath), bytes);
      } catch {
        report.changed.add(item.key);
        continue;
      }
      try {
        let tryZstd = true;
        let run: Buffer = Buffer.alloc(0);
        let runStart = 0;
        let runEnd = 0;
        for (let i = 0; i < list.length; i++) {
          const c = list[i];
          if (c.offset < runStart || c.offset + c.size > runEnd) {
            // One read for the run of chunks that lie back to back from here, up to RUN_BYTES.
            let end = c.offset + c.size;
            for (let j = i + 1; j < list.length && list[j].offset === end; j++) {
              if (end + list[j].size - c.offset > RUN_BYTES) break;
              end += list[j].size;
            }
            run = Buffer.allocUnsafe(end - c.offset);
            const got = await fh.read(run, c.offset);
            runStart = c.offset;
            runEnd = c.offset + got;
          }
          const buf = run.subarray(c.offset - runStart, c.offset - runStart + c.size);
          if (c.offset + c.size > runEnd || sha256(buf) !== c.hash) {
            report.changed.add(item.key);
            break;
          }
          const frame = await chunkFrame(compressor, c.hash, buf, tryZstd);
          // Incompressible data (media, archives): stop trying for the rest of this file.
          if (frame.flags === 0 && c.size >= 512) tryZstd = false;
          frames.push(frame);
          pending += frame.payload.length + FRAME_HEADER;
          report.chunksSent++;
          if (pending >= batchBytes) await flush();
        }
      } finally {
        await fh.close();
      }
    }
  };
  // Several files at once: for small files the time goes to open/read/close round trips through
  // libuv's thread pool; each file is still read in offset order.
  try {
    await Promise.all(Array.from({ length: Math.min(FILES_IN_FLIGHT, files.length) }, readFiles));
  } finally {
    compressor.close();
  }
  await flush();
  await Promise.all(inFlight);
  if (failure) throw failure;
  return report;
}

interface RangeReader {
  /** Fills `buf` from `offset`; the bytes read. */
  read(buf: Buffer, offset: number): Promise<number>;
  close(): Promise<void>;
}

/** Opens a file for reading chunks; reads of ≤ SMALL_FILE bytes in all are synchronous (see there). */
async function openRanges(path: string, bytes: number): Promise<RangeReader> {
  if (bytes <= SMALL_FILE) {
    const fd = openSync(path, 'r');
    return {
      read: async (buf, offset) => readSync(fd, buf, 0, buf.length, offset),
      close: async () => closeSync(fd),
    };
  }
  const fh = await open(path, 'r');
  return {
    read: async (buf, offset) => (await fh.read(buf, 0, buf.length, offset)).bytesRead,
    close: () => fh.close(),
  };
}
