// MemoryChunkStore: the ChunkStore in a Map, for fast unit tests and as a child for fault injection.

import { NotFoundError } from '@ferry/core/errors';
import type { ChunkStore, PutOptions, PutResult } from './chunk-store.ts';
import { verify } from './chunk-codec.ts';

export class MemoryChunkStore implements ChunkStore {
  readonly #chunks = new Map<string, Uint8Array>();

  async put(hash: string, data: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    if (!options.verified) verify(hash, data);
    if (this.#chunks.has(hash)) return { created: false, storedSize: data.length };
    this.#chunks.set(hash, Uint8Array.from(data));
    return { created: true, storedSize: data.length };
  }
  async get(hash: string): Promise<Uint8Array> {
    const c = this.#chunks.get(hash);
    if (!c) throw new NotFoundError('chunk', { hash });
    return Uint8Array.from(c);
  }
  async has(hashes: readonly string[]): Promise<Set<string>> {
    return new Set(hashes.filter((h) => this.#chunks.has(h)));
  }
  async delete(hash: string): Promise<void> {
    this.#chunks.delete(hash);
  }
  async *list(): AsyncIterable<string> {
    yield* [...this.#chunks.keys()].sort();
  }
}
