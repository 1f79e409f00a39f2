// Chunk negotiation, batched upload and batched download for the sync protocol. Storage is
// deduplicated across all users, but presence is per user: a chunk "is there" for a caller only
// when they uploaded it or a space they can read references it (no cross-tenant existence oracle).

import { FerryError, NotFoundError } from '@ferry/core/errors';
import { looksIncompressible } from '@ferry/core/entropy';
import { ChunkCompressor, decompressChunk } from '@ferry/core/chunk-compressor';
import type { ChunkStore } from '../store/chunks/chunk-store.ts';
import { PutWindow } from '../store/chunks/put-window.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { ChunkRecord } from '../store/meta/types.ts';
import { FLAG_ZSTD, MAX_FRAME_BYTES, frameHeader, readFrames } from './chunk-frames.ts';
import type { ChunkVisibility } from './chunk-visibility.ts';

/**
 * Puts of one upload whose bytes the store still holds (not yet written; a put then waits for its
 * fsync without holding this window). Counted in the memory the waiting chunks pin (small ones are
 * copied out of their socket buffers, see `owned`): 512 KiB lets 4 KiB chunks go 128 at a time
 * while 32 KiB chunks, which pin a 64 KiB socket read each, stay near 8; bigger windows cost the
 * server 20–30 MiB of peak RSS on the 302 MiB sync for no time the machine's noise could show
 * (docs/decisions.md). A put that held the window until its fsync made a lone request advance one
 * window per fsync round (docs/decisions.md, "Writing and syncing are two loops").
 */
const MAX_HELD_PUTS = 512;
const MAX_HELD_BYTES = 512 * 1024;
const GETS_AHEAD = 4;
const RECORD_EVERY = 256;

export class ChunkService {
  readonly #meta: MetaStore;
  readonly #chunks: ChunkStore;
  readonly #maxUploadBytes: number;
  readonly #visibility: ChunkVisibility;
  /** Download frames are compressed on reused zstd contexts, not a fresh context per chunk. */
  readonly #compressor = new ChunkCompressor();

  constructor(o: {
    meta: MetaStore;
    chunks: ChunkStore;
    visibility: ChunkVisibility;
    maxUploadBytes?: number;
  }) {
    this.#meta = o.meta;
    this.#visibility = o.visibility;
    this.#chunks = o.chunks;
    this.#maxUploadBytes = o.maxUploadBytes ?? 1024 ** 3;
  }

  /** The subset of `hashes` (deduplicated, first-seen order) that is not present for the user. */
  async missing(userId: string, hashes: readonly string[]): Promise<string[]> {
    const visible = await this.#visibility.visible(userId, hashes);
    return [...new Set(hashes)].filter((h) => !visible.has(h));
  }

  /** Throws NOT_FOUND (listing a few) unless every hash is present for the user. */
  async assertReadable(userId: string, hashes: readonly string[]): Promise<void> {
    const missing = await this.missing(userId, hashes);
    if (missing.length > 0) throw new NotFoundError('chunk', { hashes: missing.slice(0, 20) });
  }

  /**
   * Stores every frame of a `application/x-ferry-chunks` body, verifying each hash. A bad frame
   * stops the upload with HASH_MISMATCH; the frames before it stay stored and recorded.
   */
  async upload(
    userId: string,
    body: AsyncIterable<Uint8Array>,
  ): Promise<{ stored: number; received: number }> {
    const inFlight = new Set<Promise<void>>();
    let records: ChunkRecord[] = [];
    let failure: unknown;
    let stored = 0;
    let received = 0;
    let index = 0;
    const window = new PutWindow({ maxPuts: MAX_HELD_PUTS, maxBytes: MAX_HELD_BYTES });
    const flush = async () => {
      if (records.length === 0) return;
      const batch = records;
      records = [];
      await this.#meta.transaction(async (tx) => {
        await tx.content.recordChunks(batch);
        await tx.sync.addUserChunks(
          userId,
          batch.map((r) => r.hash),
        );
      });
    };
    try {
      for await (const frame of readFrames(body, { maxTotal: this.#maxUploadBytes })) {
        const at = index++;
        const zstd = frame.flags & FLAG_ZSTD ? frame.payload : undefined;
        // What waits for the fsync: the client's zstd frame, or the raw chunk.
        const { kept, cost } = owned(zstd ?? frame.payload);
        const data = zstd ? inflate(zstd, frame.hash, at) : kept;
        const size = data.length; // not `data` itself: a decompressed chunk is not kept till the fsync
        // The store verifies the hash (of the decompressed bytes) and keeps the client's zstd frame.
        const p = window
          .hold(cost, (released) =>
            this.#chunks.put(frame.hash, data, { zstd: zstd ? kept : undefined, released }),
          )
          .then(
            (r) => {
              received++;
              if (r.created) stored++;
              records.push({ hash: frame.hash, size, storedSize: r.storedSize });
            },
            (e: unknown) => {
              failure ??=
                e instanceof FerryError && e.code === 'HASH_MISMATCH'
                  ? new FerryError('HASH_MISMATCH', `frame ${at}: data does not hash to ${frame.hash}`, {
                      hash: frame.hash,
                      index: at,
                    })
                  : e;
            },
          );
        inFlight.add(p);
        void p.finally(() => inFlight.delete(p));
        await window.room();
        if (failure) break;
        if (records.length >= RECORD_EVERY) await flush();
      }
    } catch (e) {
      failure ??= e;
    }
    await Promise.all(inFlight);
    await flush();
    if (failure) throw failure;
    return { stored, received };
  }

  close(): void {
    this.#compressor.close();
  }

  /** Yields the framed chunks (request order, each once); compress: zstd when it saves ≥ 1/16. */
  async *frames(hashes: readonly string[], { compress: wantCompress = false } = {}): AsyncGenerator<Buffer> {
    const unique = [...new Set(hashes)];
    const pending: Promise<Buffer[]>[] = [];
    const load = async (hash: string): Promise<Buffer[]> => {
      if (wantCompress && this.#chunks.getStored) {
        // The stored form goes out as is: no decompress + verify + compress round on the server;
        // the client verifies every chunk it decodes.
        const s = await this.#chunks.getStored(hash);
        const body = Buffer.from(s.body.buffer, s.body.byteOffset, s.body.byteLength);
        return [frameHeader(hash, s.zstd ? FLAG_ZSTD : 0, body.length), body];
      }
      const data = await this.#chunks.get(hash);
      if (wantCompress && data.length >= 512 && !looksIncompressible(data)) {
        const z = await this.#compressor.compress(data);
        if (z.length < data.length - (data.length >> 4)) return [frameHeader(hash, FLAG_ZSTD, z.length), z];
      }
      return [frameHeader(hash, 0, data.length), Buffer.from(data.buffer, data.byteOffset, data.byteLength)];
    };
    let next = 0;
    while (next < unique.length || pending.length > 0) {
      while (next < unique.length && pending.length < GETS_AHEAD) {
        const p = load(unique[next++]);
        p.catch(() => undefined);
        pending.push(p);
      }
      for (const part of await pending.shift()!) yield part;
    }
  }
}

/**
 * A payload that is a small view into a bigger buffer (a 64 KiB socket read) is copied out while it
 * waits for its fsync: otherwise a window of many small chunks would pin every buffer they came in.
 * `cost` is what holding it pins: its own bytes once copied, else the whole buffer it is a view of.
 */
function owned(b: Uint8Array): { kept: Uint8Array; cost: number } {
  if (b.length * 4 <= b.buffer.byteLength)
    return { kept: Uint8Array.prototype.slice.call(b), cost: b.length };
  return { kept: b, cost: b.buffer.byteLength };
}

function inflate(payload: Uint8Array, hash: string, index: number): Uint8Array {
  try {
    return decompressChunk(payload, MAX_FRAME_BYTES);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ERR_BUFFER_TOO_LARGE' || err instanceof RangeError) {
      throw new FerryError(
        'PAYLOAD_TOO_LARGE',
        `frame ${index}: a chunk decompresses to more than ${MAX_FRAME_BYTES} bytes`,
        { hash, index },
      );
    }
    throw new FerryError('HASH_MISMATCH', `frame ${index}: the zstd payload is corrupt`, { hash, index });
  }
}
