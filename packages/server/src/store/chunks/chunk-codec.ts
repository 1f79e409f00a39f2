// The at-rest form of a chunk: one format byte, then the bytes, raw or zstd-compressed when that
// saves at least 1/16. Compression runs on libuv's thread pool, off the event loop.

import { promisify } from 'node:util';
import { zstdCompress, constants } from 'node:zlib';
import { hash } from 'node:crypto';
import { FerryError } from '@ferry/core/errors';
import { decompressChunk } from '@ferry/core/chunk-compressor';

const compress = promisify(zstdCompress);

const RAW = 0;
const ZSTD = 1;

/** One-shot crypto.hash(): no Hash object per chunk (~2 µs less a call than createHash). */
export function sha256Hex(data: Uint8Array): string {
  return hash('sha256', data, 'hex');
}

export function verify(hash: string, data: Uint8Array): void {
  if (sha256Hex(data) !== hash) throw new FerryError('HASH_MISMATCH', `chunk data does not hash to ${hash}`);
}

/** Encodes a chunk for storage: compressed when it pays. */
export async function encodeChunk(data: Uint8Array, { compressMin = 512 } = {}): Promise<Buffer> {
  if (data.length >= compressMin) {
    const z = await compress(data, { params: { [constants.ZSTD_c_compressionLevel]: 1 } });
    if (z.length < data.length - (data.length >> 4)) return Buffer.concat([Buffer.of(ZSTD), z]);
  }
  return Buffer.concat([Buffer.of(RAW), data]);
}

export async function decodeChunk(stored: Uint8Array): Promise<Uint8Array> {
  const body = stored.subarray(1);
  if (stored[0] === RAW) return body;
  if (stored[0] === ZSTD) return decompressChunk(body, 64 * 1024 * 1024);
  throw new FerryError('HASH_MISMATCH', 'stored chunk has an unknown format');
}
