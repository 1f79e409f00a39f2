// Turns byte streams into stored chunks + a manifest, and manifests back into byte streams.
// Memory stays bounded: the store holds at most PUTS_HELD chunks (≤ 128 KiB each) of one stream at
// a time; chunks it has written wait for their fsync without counting (PutOptions.released).

import { createHash } from 'node:crypto';
import { Chunker, DEFAULT_CHUNKER } from '@ferry/core/fastcdc';
import { FerryError } from '@ferry/core/errors';
import { sha256Hex } from '../store/chunks/chunk-codec.ts';
import type { ChunkStore } from '../store/chunks/chunk-store.ts';
import { PutWindow } from '../store/chunks/put-window.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { ChunkRecord, ChunkRef, Manifest } from '../store/meta/types.ts';
import { packChunkRefs } from '../store/meta/sql-content-store.ts';

const PUTS_HELD = 8;

export interface IngestResult {
  size: number;
  contentHash: string;
  manifest: Manifest;
  /** The chunks, to record in the same transaction that commits the file (see `record`). */
  chunks: ChunkRecord[];
  /** Bytes newly written to the chunk store (0 when every chunk was already there). */
  newStoredBytes: number;
}

export function manifestId(chunks: ChunkRef[]): string {
  return createHash('sha256').update(packChunkRefs(chunks)).digest('hex');
}

export class ContentService {
  readonly #meta: MetaStore;
  readonly #chunks: ChunkStore;

  constructor({ meta, chunks }: { meta: MetaStore; chunks: ChunkStore }) {
    this.#meta = meta;
    this.#chunks = chunks;
  }

  get chunkStore(): ChunkStore {
    return this.#chunks;
  }

  /**
   * Chunks, hashes and stores a stream. Nothing is recorded in the MetaStore: the caller commits
   * the file and calls `record` in one transaction, so a failed or refused upload leaves only
   * unreferenced chunk files, which garbage collection removes. Throws PAYLOAD_TOO_LARGE past `maxBytes`.
   */
  async ingest(body: AsyncIterable<Uint8Array>, { maxBytes }: { maxBytes: number }): Promise<IngestResult> {
    const chunker = new Chunker(DEFAULT_CHUNKER);
    const fileHash = createHash('sha256');
    const refs: ChunkRef[] = [];
    const records: ChunkRecord[] = [];
    const inFlight = new Set<Promise<void>>();
    let failure: unknown;
    let size = 0;
    let newStoredBytes = 0;
    const window = new PutWindow({ maxPuts: PUTS_HELD });

    const store = (data: Uint8Array) => {
      const hash = sha256Hex(data);
      refs.push({ hash, size: data.length });
      const p = window
        .hold(data.length, (released) => this.#chunks.put(hash, data, { verified: true, released }))
        .then(
          (r) => {
            records.push({ hash, size: data.length, storedSize: r.storedSize });
            if (r.created) newStoredBytes += r.storedSize;
          },
          (e: unknown) => {
            failure ??= e;
          },
        );
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    };

    for await (const piece of body) {
      size += piece.length;
      if (size > maxBytes)
        throw new FerryError('PAYLOAD_TOO_LARGE', `upload is larger than ${maxBytes} bytes`);
      fileHash.update(piece);
      for (const c of chunker.push(piece)) {
        store(c);
        await window.room();
      }
      if (failure) throw failure;
    }
    for (const c of chunker.finish()) store(c);
    await Promise.all(inFlight);
    if (failure) throw failure;

    const manifest: Manifest = { id: manifestId(refs), size, chunkCount: refs.length, chunks: refs };
    return { size, contentHash: fileHash.digest('hex'), manifest, chunks: records, newStoredBytes };
  }

  /** Records an ingest's chunks and manifest; call inside the transaction that commits the file. */
  async record(tx: MetaStore, ingested: Pick<IngestResult, 'manifest' | 'chunks'>): Promise<void> {
    await tx.content.recordChunks(ingested.chunks);
    await tx.content.putManifests([ingested.manifest]);
  }

  async manifest(id: string): Promise<Manifest> {
    const m = await this.#meta.content.manifest(id);
    if (!m) throw new FerryError('INTERNAL', `manifest ${id} is missing`);
    return m;
  }

  /** Yields the bytes [start, end] (inclusive) of a manifest's content, fetching one chunk at a time. */
  async *read(manifest: Manifest, start = 0, end = manifest.size - 1): AsyncGenerator<Uint8Array> {
    let offset = 0;
    let next: Promise<Uint8Array> | undefined;
    const wanted = manifest.chunks
      .map((c) => {
        const at = offset;
        offset += c.size;
        return { ...c, at };
      })
      .filter((c) => c.at + c.size > start && c.at <= end);
    for (let i = 0; i < wanted.length; i++) {
      const c = wanted[i];
      const data = await (next ?? this.#chunks.get(c.hash));
      // Read one chunk ahead so disk and network overlap.
      next = i + 1 < wanted.length ? this.#chunks.get(wanted[i + 1].hash) : undefined;
      next?.catch(() => undefined);
      const from = Math.max(0, start - c.at);
      const to = Math.min(c.size, end - c.at + 1);
      yield from === 0 && to === c.size ? data : data.subarray(from, to);
    }
  }
}
