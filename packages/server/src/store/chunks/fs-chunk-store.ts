// FsChunkStore: one file per chunk under DIR/ab/<hash>, written to a temp file, fsynced and renamed
// into place, so a crash never leaves a half chunk under a real name.

import { mkdir, open, readFile, readdir, rename, rm, stat, unlink } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import { HASH_RE, type ChunkStore, type PutOptions, type PutResult } from './chunk-store.ts';
import { decodeChunk, encodeChunk, verify } from './chunk-codec.ts';

export class FsChunkStore implements ChunkStore {
  readonly #dir: string;
  readonly #tmp: string;
  #ready: Promise<void> | undefined;

  constructor(dir: string) {
    this.#dir = dir;
    this.#tmp = join(dir, 'tmp');
  }

  #init(): Promise<void> {
    // Leftover temp files are chunks a crash interrupted: never acknowledged, safe to drop.
    this.#ready ??= rm(this.#tmp, { recursive: true, force: true }).then(() =>
      mkdir(this.#tmp, { recursive: true }).then(() => undefined),
    );
    return this.#ready;
  }

  #path(hash: string): string {
    if (!HASH_RE.test(hash)) throw new FerryError('BAD_REQUEST', `"${hash}" is not a SHA-256 hex hash`);
    return join(this.#dir, hash.slice(0, 2), hash);
  }

  async put(hash: string, data: Uint8Array, options: PutOptions = {}): Promise<PutResult> {
    const path = this.#path(hash);
    if (!options.verified) verify(hash, data);
    await this.#init();
    const existing = await stat(path).catch(() => undefined);
    if (existing) return { created: false, storedSize: existing.size };
    const encoded = await encodeChunk(data);
    const tmp = join(this.#tmp, `${hash}.${randomBytes(6).toString('hex')}`);
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(encoded);
      await fh.sync();
    } finally {
      await fh.close();
    }
    const dir = join(this.#dir, hash.slice(0, 2));
    await mkdir(dir, { recursive: true });
    await rename(tmp, path);
    await fsyncDir(dir);
    return { created: true, storedSize: encoded.length };
  }

  async get(hash: string): Promise<Uint8Array> {
    let stored: Buffer;
    try {
      stored = await readFile(this.#path(hash));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError('chunk', { hash });
      throw e;
    }
    const data = await decodeChunk(stored);
    verify(hash, data);
    return data;
  }

  async has(hashes: readonly string[]): Promise<Set<string>> {
    const found = await Promise.all(
      hashes.map((h) =>
        stat(this.#path(h)).then(
          () => true,
          () => false,
        ),
      ),
    );
    return new Set(hashes.filter((_, i) => found[i]));
  }

  async delete(hash: string): Promise<void> {
    await unlink(this.#path(hash)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }

  async *list(): AsyncIterable<string> {
    const dirs = await readdir(this.#dir).catch(() => [] as string[]);
    for (const d of dirs.sort()) {
      if (!/^[0-9a-f]{2}$/.test(d)) continue;
      for (const f of (await readdir(join(this.#dir, d))).sort()) if (HASH_RE.test(f)) yield f;
    }
  }
}

/** fsync a directory so a rename inside it survives power loss. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
