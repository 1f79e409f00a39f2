// Reads a file once and produces its content hash, FastCDC chunk refs and manifest id together:
// one pass over the bytes, memory bounded by the read buffer plus one maximum-size chunk.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { Chunker, DEFAULT_CHUNKER } from '@ferry/core/fastcdc';
import { manifestIdOf, packRefs } from './chunk-refs.ts';

export interface HashedFile {
  size: number;
  contentHash: string;
  refs: Uint8Array;
  manifestId: string;
}

const READ_SIZE = 1024 * 1024;

/**
 * Files up to this size are read in one synchronous call: a promise-based open/read/read/close is
 * four thread-pool round trips and costs about five times the CPU of the read itself for small
 * files (a scan of 5,000 files of 4 KB: 0.8 s against 0.15 s). Blocking the event loop for one
 * read of ≤ 256 KiB from the page cache is a fraction of a millisecond.
 */
export const SMALL_FILE = 256 * 1024;

/**
 * `sizeHint` (the size a stat saw) sizes the read buffers: a small file then costs a small
 * allocation instead of a fresh 1 MiB buffer per read (thousands of small files otherwise spend
 * more time in the garbage collector than hashing). The file is still read until EOF.
 */
export async function hashFile(file: string, sizeHint?: number): Promise<HashedFile> {
  if (sizeHint !== undefined && sizeHint <= SMALL_FILE) return hashBytes(readFileSync(file));
  const fh = await open(file, 'r');
  try {
    const whole = createHash('sha256');
    const chunker = new Chunker(DEFAULT_CHUNKER);
    const refs: { hash: string; size: number }[] = [];
    const add = (c: Uint8Array) =>
      refs.push({ hash: createHash('sha256').update(c).digest('hex'), size: c.length });
    let size = 0;
    for (;;) {
      // A fresh buffer per read: the chunker keeps views of pending bytes.
      const want =
        sizeHint === undefined ? READ_SIZE : Math.min(READ_SIZE, Math.max(4096, sizeHint - size + 1));
      const buf = Buffer.allocUnsafe(want);
      const { bytesRead } = await fh.read(buf, 0, want, null);
      if (bytesRead === 0) break;
      const piece = buf.subarray(0, bytesRead);
      size += bytesRead;
      whole.update(piece);
      for (const c of chunker.push(piece)) add(c);
    }
    for (const c of chunker.finish()) add(c);
    const packed = packRefs(refs);
    return { size, contentHash: whole.digest('hex'), refs: packed, manifestId: manifestIdOf(packed) };
  } finally {
    await fh.close();
  }
}

/** Hashes bytes already in memory the same way. */
export function hashBytes(data: Uint8Array): HashedFile {
  const chunker = new Chunker(DEFAULT_CHUNKER);
  const refs = [...chunker.push(data), ...chunker.finish()].map((c) => ({
    hash: createHash('sha256').update(c).digest('hex'),
    size: c.length,
  }));
  const packed = packRefs(refs);
  return {
    size: data.length,
    contentHash: createHash('sha256').update(data).digest('hex'),
    refs: packed,
    manifestId: manifestIdOf(packed),
  };
}
