// The trash: deleted entries stay restorable until emptied or expired.

import type { SpaceOption } from './files-api.ts';
import type { Transport } from './transport.ts';
import type { FileInfo } from './types.ts';

export class TrashApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  async list(o: SpaceOption = {}): Promise<FileInfo[]> {
    return (
      await this.#t.json<{ entries: FileInfo[] }>('GET', '/api/v1/trash', { query: { space: o.space } })
    ).entries;
  }

  restore(id: string): Promise<FileInfo> {
    return this.#t.json('POST', `/api/v1/trash/${encodeURIComponent(id)}/restore`, { idempotent: true });
  }

  /** Deletes everything in the trash for good; resolves to how many entries went. */
  async empty(o: SpaceOption = {}): Promise<number> {
    return (await this.#t.json<{ removed: number }>('DELETE', '/api/v1/trash', { query: { space: o.space } }))
      .removed;
  }
}
