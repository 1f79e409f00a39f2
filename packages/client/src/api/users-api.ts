// Admin view of the accounts on the server.

import type { Transport } from './transport.ts';
import type { User } from './types.ts';

export class UsersApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  async list(): Promise<User[]> {
    return (await this.#t.json<{ users: User[] }>('GET', '/api/v1/users')).users;
  }

  create(input: { username: string; password: string }): Promise<User> {
    return this.#t.json('POST', '/api/v1/auth/register', { json: input, idempotent: false });
  }
}
