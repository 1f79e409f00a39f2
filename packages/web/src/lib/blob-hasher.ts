// Cuts a Blob into the sync protocol's FastCDC chunks and hashes them exactly as the Node engine's
// file-hasher does, so chunks a browser uploads dedup with those of every device. The Blob is read
// in slices: memory stays at about one slice plus one pending chunk, whatever the file's size.

import { sha256 } from '@noble/hashes/sha2.js';
import { Chunker, DEFAULT_CHUNKER } from '@ferry/core/fastcdc';
import { bytesToHex } from '@ferry/core/manifest-delta';

export interface BlobChunk {
  /** Lower-case hex SHA-256 of the chunk. */
  hash: string;
  size: number;
  /** Where the chunk starts in the Blob. */
  offset: number;
}

export interface HashedBlob {
  size: number;
  /** SHA-256 of the whole content, hex: the file's contentHash (and its ETag on the server). */
  contentHash: string;
  chunks: BlobChunk[];
}

export interface HashOptions {
  /** Bytes read per slice (the chunk boundaries do not depend on it). */
  sliceBytes?: number;
  /** Called after each slice with the bytes hashed so far. */
  onProgress?: (hashed: number) => void;
  signal?: AbortSignal;
}

const SLICE_BYTES = 1024 * 1024;

/**
 * Chunk hashes come from WebCrypto (native, and it takes a whole chunk at once); the whole-file
 * hash needs a hash that can be fed slice by slice, which WebCrypto cannot do, so it is
 * @noble/hashes' audited SHA-256 (docs/decisions.md).
 */
export async function hashBlob(blob: Blob, o: HashOptions = {}): Promise<HashedBlob> {
  const sliceBytes = o.sliceBytes ?? SLICE_BYTES;
  const whole = sha256.create();
  const chunker = new Chunker(DEFAULT_CHUNKER);
  const chunks: BlobChunk[] = [];
  let offset = 0;
  const add = async (cut: Uint8Array[]) => {
    // The chunker's views are over ArrayBuffers (Blob reads and its own joins), never shared ones.
    const digests = await Promise.all(
      cut.map((c) => crypto.subtle.digest('SHA-256', c as Uint8Array<ArrayBuffer>)),
    );
    cut.forEach((c, n) => {
      chunks.push({ hash: bytesToHex(new Uint8Array(digests[n])), size: c.length, offset });
      offset += c.length;
    });
  };
  for (let at = 0; at < blob.size; at += sliceBytes) {
    o.signal?.throwIfAborted();
    const piece = new Uint8Array(await blob.slice(at, at + sliceBytes).arrayBuffer());
    whole.update(piece);
    await add(chunker.push(piece));
    o.onProgress?.(Math.min(blob.size, at + sliceBytes));
  }
  await add(chunker.finish());
  return { size: blob.size, contentHash: bytesToHex(whole.digest()), chunks };
}
