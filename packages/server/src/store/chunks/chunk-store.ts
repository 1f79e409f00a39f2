// ChunkStore: immutable, content-addressed chunks keyed by the SHA-256 (hex) of their bytes.
//
// Contract (chunk-store.contract.ts holds every implementation to it):
// - put(hash, data) verifies sha256(data) === hash before storing, else throws HASH_MISMATCH and
//   stores nothing (unless the caller says it verified the hash itself, see PutOptions). It is atomic (a reader never sees half a chunk) and durable when it resolves.
//   Putting a chunk that exists is a cheap no-op that reports created: false.
// - get(hash) returns the original bytes, verified; NOT_FOUND when absent; a corrupt copy throws
//   HASH_MISMATCH rather than returning wrong bytes.
// - has(hashes) returns the subset present. delete(hash) is idempotent. list() yields every hash.
// - A chunk is visible to has()/get()/list() only once it is durable.

export interface PutResult {
  /** False when the chunk was already stored. */
  created: boolean;
  /** Bytes the chunk takes at rest (after compression). */
  storedSize: number;
}

/** What a caller already knows about a chunk, so the store does not do the work twice. */
export interface PutOptions {
  /** The caller hashed `data` itself and it matched `hash` (an ingest, a verified upload frame). */
  verified?: boolean;
  /**
   * A zstd frame that decompresses to `data` (a sync upload's wire frame, which the caller has
   * decompressed and verified): a store that compresses at rest may keep it instead of compressing again.
   */
  zstd?: Uint8Array;
  /**
   * Called once the store no longer reads `data` or `zstd`, which may be before the put resolves
   * (the bytes are written, not yet durable): a caller that bounds the memory its puts pin counts
   * a put until then, not until its fsync. Stores that hold the bytes until the put settles may
   * never call it; callers count a put as released when it settles, whichever comes first.
   */
  released?: () => void;
}

export interface ChunkStore {
  put(hash: string, data: Uint8Array, options?: PutOptions): Promise<PutResult>;
  get(hash: string): Promise<Uint8Array>;
  /**
   * The chunk as it is stored, to pass on without decoding it: a zstd frame (`zstd: true`) or the
   * raw bytes. Not verified here: the receiver hashes what it decodes (sync clients always do).
   * Stores that do not compress at rest omit it.
   */
  getStored?(hash: string): Promise<{ zstd: boolean; body: Uint8Array }>;
  has(hashes: readonly string[]): Promise<Set<string>>;
  delete(hash: string): Promise<void>;
  list(): AsyncIterable<string>;
  /** Finishes pending puts and releases files and handles; stores without any omit it. */
  close?(): Promise<void>;
}

export const HASH_RE = /^[0-9a-f]{64}$/;
