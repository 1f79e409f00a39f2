// The on-disk format of a pack file: an 8-byte file header, then records that each carry their own
// hash, lengths and flags, so a pack is self-describing and its index can be rebuilt by scanning it.
//
//   file:   "FERRYPK1"
//   record: magic u32 "FRC1" | flags u8 | 3 reserved | size u32 | storedSize u32 | sha256 (32) | body
//
// `size` is the chunk's length, `storedSize` the body's (zstd when flags has ZSTD, else raw).

import { FerryError } from '@ferry/core/errors';
import { looksIncompressible } from '@ferry/core/entropy';
import { decompressChunk, type ChunkCompressor } from '@ferry/core/chunk-compressor';

export const PACK_MAGIC = Buffer.from('FERRYPK1', 'latin1');
export const PACK_HEADER_SIZE = PACK_MAGIC.length;
export const RECORD_MAGIC = 0x46524331; // "FRC1"
export const RECORD_HEADER_SIZE = 48;
export const FLAG_ZSTD = 1;
/** Largest chunk a record may hold: a header whose length is beyond it is torn or corrupt. */
export const MAX_RECORD_BODY = 64 * 1024 * 1024;

export interface EncodedChunk {
  flags: number;
  body: Uint8Array;
}

/**
 * zstd level 1 when it saves at least 1/16 of a chunk of 512 bytes or more; raw otherwise. A frame
 * the caller already holds (`zstd`, same level on the client) is kept rather than made again.
 */
export async function encodeBody(
  data: Uint8Array,
  compressor: ChunkCompressor,
  zstd?: Uint8Array,
): Promise<EncodedChunk> {
  const pays = (z: Uint8Array) => z.length < data.length - (data.length >> 4);
  if (zstd) return pays(zstd) ? { flags: FLAG_ZSTD, body: zstd } : { flags: 0, body: data };
  if (data.length >= 512 && !looksIncompressible(data)) {
    const z = await compressor.compress(data);
    if (pays(z)) return { flags: FLAG_ZSTD, body: z };
  }
  return { flags: 0, body: data };
}

export async function decodeBody(flags: number, body: Uint8Array): Promise<Uint8Array> {
  if (flags === 0) return body;
  if (flags === FLAG_ZSTD) return decompressChunk(body, MAX_RECORD_BODY);
  throw new FerryError('HASH_MISMATCH', 'stored chunk has unknown flags');
}

export interface RecordHeader {
  flags: number;
  size: number;
  storedSize: number;
  hash: Buffer;
}

export function writeRecordHeader(h: RecordHeader): Buffer {
  const b = Buffer.alloc(RECORD_HEADER_SIZE);
  b.writeUInt32BE(RECORD_MAGIC, 0);
  b[4] = h.flags;
  b.writeUInt32BE(h.size, 8);
  b.writeUInt32BE(h.storedSize, 12);
  h.hash.copy(b, 16);
  return b;
}

/** Parses a record header; undefined when the bytes are not one (a torn or foreign tail). */
export function readRecordHeader(b: Uint8Array): RecordHeader | undefined {
  if (b.length < RECORD_HEADER_SIZE) return undefined;
  const buf = Buffer.from(b.buffer, b.byteOffset, RECORD_HEADER_SIZE);
  if (buf.readUInt32BE(0) !== RECORD_MAGIC) return undefined;
  const flags = buf[4];
  const size = buf.readUInt32BE(8);
  const storedSize = buf.readUInt32BE(12);
  if (flags > FLAG_ZSTD || size > MAX_RECORD_BODY || storedSize > MAX_RECORD_BODY) return undefined;
  if (flags === 0 && size !== storedSize) return undefined;
  return { flags, size, storedSize, hash: Buffer.from(buf.subarray(16, 48)) };
}
