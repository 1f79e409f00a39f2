// Share links: created by a signed-in user, opened by anyone who has the token.

import type { Transport } from './transport.ts';
import type { CreateShareInput, PublicShare, Share } from './types.ts';

export class SharesApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** Creates a link; the answer's `token` and `url` are the only time the secret is shown. */
  create(input: CreateShareInput): Promise<Share & { token: string }> {
    return this.#t.json('POST', '/api/v1/shares', { json: input, idempotent: false });
  }

  async list(): Promise<Share[]> {
    return (await this.#t.json<{ shares: Share[] }>('GET', '/api/v1/shares')).shares;
  }

  revoke(id: string): Promise<void> {
    return this.#t.json('DELETE', `/api/v1/shares/${encodeURIComponent(id)}`);
  }

  /** Public: what a link points at. Throws PASSWORD_REQUIRED / WRONG_PASSWORD when it is protected. */
  getPublic(token: string, password?: string): Promise<PublicShare> {
    return this.#t.json('GET', `/api/v1/public/shares/${encodeURIComponent(token)}`, {
      auth: false,
      headers: password ? { 'x-share-password': password } : undefined,
    });
  }

  /** Public: downloads the shared file (counts against the link's download limit). */
  downloadPublic(
    token: string,
    o: { password?: string; path?: string; signal?: AbortSignal } = {},
  ): Promise<Response> {
    return this.#t.request('GET', `/api/v1/public/shares/${encodeURIComponent(token)}/download`, {
      auth: false,
      query: { path: o.path },
      headers: { accept: '*/*', ...(o.password ? { 'x-share-password': o.password } : {}) },
      idempotent: false,
      signal: o.signal,
    });
  }

  /** A plain link for a browser to follow (the password, if any, travels in the query). */
  publicDownloadUrl(token: string, o: { password?: string; path?: string } = {}): string {
    return this.#t.url(`/api/v1/public/shares/${encodeURIComponent(token)}/download`, {
      password: o.password,
      path: o.path,
    });
  }
}
