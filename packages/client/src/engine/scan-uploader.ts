// Sends chunks while the scan hashes them. A file the scan has to read (new or changed) is nearly
// always uploaded by the same pass, so its chunks are copied out of the hashing buffers as they are
// cut, asked about in batches (/chunks/missing) and the missing ones sent at once: the upload runs
// beside the hashing instead of after it, and bytes the scan already hashed are not read and hashed
// a second time. Chunks are content-addressed, so sending one early is always safe; a chunk whose
// file ends up not committed is what an interrupted upload leaves too.
//
// This is only a head start. Nothing here fails the scan: after the first error (offline, server
// gone) it stops sending, and the remote phase asks about every chunk it was not told is stored.

import { frameParts, FRAME_HEADER, type SyncApi } from '../api/sync-api.ts';
import { ChunkCompressor } from '@ferry/core/chunk-compressor';
import { DEFAULT_CHUNKER } from '@ferry/core/fastcdc';
import type { BandwidthLimiter } from './bandwidth-limiter.ts';
import { chunkFrame, uploadBodyBytes } from './chunk-uploader.ts';
import type { ChunkSink } from './file-hasher.ts';

export interface ScanUploaderOptions {
  limiter?: BandwidthLimiter;
  signal?: AbortSignal;
  onBytes?: (sent: number) => void;
  /** Bytes of chunks per batch (one missing query, then one upload request); see uploadBodyBytes. */
  batchBytes?: number;
  /** Batches between their missing query and the end of their upload. */
  inFlight?: number;
}

interface Batch {
  buf: Buffer;
  used: number;
  chunks: { hash: string; start: number; size: number }[];
}

/**
 * Hashes remembered per pass. Past this many the sets start over: a first sync of a huge tree
 * must not hold every chunk id in memory, and forgetting only costs a repeated missing query.
 */
const REMEMBER = 500_000;

export class ScanUploader implements ChunkSink {
  /** Chunks the server has for this user: sent by us, or reported present. */
  readonly stored = new Set<string>();
  readonly #api: SyncApi;
  readonly #o: Required<Pick<ScanUploaderOptions, 'batchBytes' | 'inFlight'>> & ScanUploaderOptions;
  readonly #offered = new Set<string>();
  readonly #inFlight = new Set<Promise<void>>();
  /** Batch buffers whose upload finished: reused, since fresh memory costs more than copying. */
  readonly #free: Buffer[] = [];
  readonly #compressor = new ChunkCompressor();
  #batch: Batch | undefined;
  #error: Error | undefined;
  bytesSent = 0;

  constructor(api: SyncApi, o: ScanUploaderOptions = {}) {
    this.#api = api;
    this.#o = { batchBytes: uploadBodyBytes(o.limiter), inFlight: 4, ...o };
  }

  /** The first error, once the sink has given up (nothing is sent after it). */
  get error(): Error | undefined {
    return this.#error;
  }

  offer(hash: string, bytes: Uint8Array): void {
    if (this.#error !== undefined || this.#offered.has(hash) || this.stored.has(hash)) return;
    if (this.#offered.size >= REMEMBER) this.#offered.clear();
    this.#offered.add(hash);
    let b = this.#batch;
    if (b && b.used + bytes.length > b.buf.length) {
      this.#seal();
      b = undefined;
    }
    b ??= this.#batch = this.#newBatch(bytes.length);
    b.buf.set(bytes, b.used);
    b.chunks.push({ hash, start: b.used, size: bytes.length });
    b.used += bytes.length;
    if (b.used >= this.#o.batchBytes) this.#seal();
  }

  async ready(): Promise<void> {
    while (this.#inFlight.size >= this.#o.inFlight) await Promise.race(this.#inFlight);
  }

  /** Sends what is still batched and waits for every batch. Never throws (see `error`). */
  async finish(): Promise<void> {
    this.#seal();
    await Promise.all(this.#inFlight);
    this.#compressor.close();
    this.#free.length = 0;
  }

  /** A batch is sealed once it holds batchBytes, so its buffer has room for one more whole chunk. */
  get #capacity(): number {
    return this.#o.batchBytes + DEFAULT_CHUNKER.maxSize;
  }

  #newBatch(atLeast: number): Batch {
    const buf = atLeast <= this.#capacity ? this.#free.pop() : undefined;
    return { buf: buf ?? Buffer.allocUnsafe(Math.max(atLeast, this.#capacity)), used: 0, chunks: [] };
  }

  #seal(): void {
    const b = this.#batch;
    this.#batch = undefined;
    if (!b || b.chunks.length === 0) return;
    const p = this.#send(b)
      .catch((e: unknown) => {
        this.#error ??= e instanceof Error ? e : new Error(String(e));
      })
      .finally(() => {
        this.#inFlight.delete(p);
        if (b.buf.length === this.#capacity) this.#free.push(b.buf);
      });
    this.#inFlight.add(p);
  }

  async #send(b: Batch): Promise<void> {
    if (this.#error !== undefined) return;
    const { signal } = this.#o;
    const missing = new Set(
      await this.#api.missingChunks(
        b.chunks.map((c) => c.hash),
        signal,
      ),
    );
    for (const c of b.chunks) if (!missing.has(c.hash)) this.#remember(c.hash);
    // All at once: the compressor's lanes queue them, with no round trip between two chunks.
    const frames = await Promise.all(
      b.chunks
        .filter((c) => missing.has(c.hash))
        .map((c) => chunkFrame(this.#compressor, c.hash, b.buf.subarray(c.start, c.start + c.size))),
    );
    if (frames.length === 0) return;
    const size = frames.reduce((n, f) => n + f.payload.length + FRAME_HEADER, 0);
    await this.#o.limiter?.take(size);
    await this.#api.uploadChunks(frameParts(frames), signal);
    for (const f of frames) this.#remember(f.hash);
    this.bytesSent += size;
    this.#o.onBytes?.(size);
  }

  #remember(hash: string): void {
    if (this.stored.size >= REMEMBER) this.stored.clear();
    this.stored.add(hash);
  }
}
