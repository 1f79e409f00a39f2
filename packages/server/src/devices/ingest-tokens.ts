// Fleet ingest tokens: long-lived secrets an admin creates for gateways and fleet back-ends. They
// may only post sync events (for any device); every other route refuses them, because they are not
// access tokens. Only a SHA-256 of each token is stored; verification is cached for a minute, by
// the token itself (no hash per request: the gateways that use these tokens send thousands a second).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { IngestToken } from '../store/meta/sql-telemetry-store.ts';

/** Every ingest token starts with this, which tells it apart from an access JWT at a glance. */
export const INGEST_TOKEN_PREFIX = 'fit_';
const CACHE_MS = 60_000;
const TOUCH_MS = 60_000;
const CACHE_MAX = 1000;

const hash = (t: string) => createHash('sha256').update(t).digest('hex');

export class IngestTokenService {
  readonly #meta: MetaStore;
  readonly #cache = new Map<string, { token: IngestToken; checkedAt: number }>();

  constructor({ meta }: { meta: MetaStore }) {
    this.#meta = meta;
  }

  /** Creates a token; the secret is returned here only. */
  async create(createdBy: string, name: string): Promise<IngestToken & { token: string }> {
    const token = INGEST_TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const t = await this.#meta.telemetry.createIngestToken({
      id: randomUUID(),
      name: name.trim(),
      tokenHash: hash(token),
      createdBy,
    });
    return { ...t, token };
  }

  list(): Promise<IngestToken[]> {
    return this.#meta.telemetry.listIngestTokens();
  }

  async revoke(id: string): Promise<void> {
    if (!(await this.#meta.telemetry.revokeIngestToken(id, Date.now())))
      throw new NotFoundError('ingest token');
    for (const [h, c] of this.#cache) if (c.token.id === id) this.#cache.delete(h);
  }

  /** The token's record; UNAUTHORIZED when it is unknown or revoked. */
  async verify(token: string): Promise<IngestToken> {
    const now = Date.now();
    let c = this.#cache.get(token);
    if (!c || now - c.checkedAt > CACHE_MS) {
      const t = await this.#meta.telemetry.ingestTokenByHash(hash(token));
      if (!t || t.revokedAt !== null) {
        this.#cache.delete(token);
        throw new FerryError('UNAUTHORIZED', 'ingest token is invalid or revoked');
      }
      // Bounded: a flood of made-up tokens never gets here (they fail above), and real ones are few.
      if (this.#cache.size >= CACHE_MAX) this.#cache.clear();
      c = { token: t, checkedAt: now };
      this.#cache.set(token, c);
    }
    if (now - (c.token.lastUsedAt ?? 0) > TOUCH_MS) {
      c.token = { ...c.token, lastUsedAt: now };
      await this.#meta.telemetry.touchIngestToken(c.token.id, now);
    }
    return c.token;
  }
}
