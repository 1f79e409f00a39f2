// Which chunks a user may see. Storage is deduplicated globally; presence is not: a chunk is
// present for a user who uploaded it (user_chunks) or who can read a space that references it
// (space_chunks). space_chunks is kept by the sync commit and caught up lazily from the versions
// of any other writer (web upload, restore, Garmin, …), so no write path has to remember it.

import type { MetaStore } from '../store/meta/meta-store.ts';

const PAGE = 500;

export class ChunkVisibility {
  readonly #meta: MetaStore;
  readonly #indexing = new Map<string, Promise<void>>();

  constructor(o: { meta: MetaStore }) {
    this.#meta = o.meta;
  }

  /** The subset of `hashes` present for the user, with their sizes. */
  async visible(userId: string, hashes: readonly string[]): Promise<Map<string, number>> {
    const unique = [...new Set(hashes)];
    let found = await this.#meta.sync.visibleChunks(userId, unique);
    if (found.size < unique.length && (await this.#catchUp(userId)))
      found = await this.#meta.sync.visibleChunks(userId, unique);
    return found;
  }

  /** Indexes what the user's spaces gained since last time; true when anything was new. */
  async #catchUp(userId: string): Promise<boolean> {
    let changed = false;
    for (const space of await this.#meta.spaces.listForUser(userId)) {
      if ((await this.#meta.sync.chunkIndexSeq(space.id)) >= space.headSeq) continue;
      changed = true;
      let p = this.#indexing.get(space.id);
      if (!p) {
        p = this.#index(space.id).finally(() => this.#indexing.delete(space.id));
        this.#indexing.set(space.id, p);
      }
      await p;
    }
    return changed;
  }

  async #index(spaceId: string): Promise<void> {
    // Head first: every version up to it is committed, so the pages below cover it.
    const head = (await this.#meta.spaces.byId(spaceId))?.headSeq ?? 0;
    let since = await this.#meta.sync.chunkIndexSeq(spaceId);
    const seen = new Set<string>();
    for (;;) {
      const page = await this.#meta.sync.manifestsSince(spaceId, since, PAGE);
      for (const { manifestId } of page) {
        if (seen.has(manifestId)) continue;
        seen.add(manifestId);
        const m = await this.#meta.content.manifest(manifestId);
        if (m)
          await this.#meta.sync.addSpaceChunks(
            spaceId,
            m.chunks.map((c) => c.hash),
          );
      }
      if (page.length > 0) {
        since = page.at(-1)!.seq;
        await this.#meta.sync.setChunkIndexSeq(spaceId, since);
      }
      if (page.length < PAGE) break;
    }
    await this.#meta.sync.setChunkIndexSeq(spaceId, Math.max(since, head));
  }
}
