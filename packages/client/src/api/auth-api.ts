// Sign-in, token refresh, sign-out and the current user.

import type { Transport } from './transport.ts';
import { sessionFromLogin } from './transport.ts';
import type { DeviceKind, LoginResult, Session, User } from './types.ts';

export interface LoginInput {
  username: string;
  password: string;
  device?: { name: string; kind?: DeviceKind };
}

export class AuthApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** Signs in and stores the new session; later calls carry its token. */
  async login(input: LoginInput): Promise<Session> {
    const r = await this.#t.json<LoginResult>('POST', '/api/v1/auth/login', {
      json: input,
      auth: false,
      idempotent: false,
    });
    const session = sessionFromLogin(r);
    this.#t.setSession(session);
    return session;
  }

  /** Rotates the token pair now (normally the SDK does this by itself). */
  refresh(): Promise<Session> {
    return this.#t.refresh(true);
  }

  /** Revokes the refresh token on the server and forgets the session, even if the server is unreachable. */
  async logout(): Promise<void> {
    const s = this.#t.session;
    try {
      if (s)
        await this.#t.json<void>('POST', '/api/v1/auth/logout', {
          json: { refreshToken: s.refreshToken },
          auth: false,
        });
    } finally {
      this.#t.setSession(null);
    }
  }

  me(): Promise<{ user: User; deviceId: string }> {
    return this.#t.json('GET', '/api/v1/auth/me');
  }

  /** Admin only: creates an account. */
  register(input: { username: string; password: string }): Promise<User> {
    return this.#t.json('POST', '/api/v1/auth/register', { json: input, idempotent: false });
  }

  get session(): Session | null {
    return this.#t.session;
  }
}
