// Access tokens: short-lived HS256 JWTs. Verification accepts only the algorithms in ALGORITHMS, so a
// token with "alg": "none" or an RS/HS confusion is refused. The secret lives in DATA/jwt-secret (0600).

import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { FerryError } from '@ferry/core/errors';
import type { UserRole } from '../store/meta/types.ts';

const ALGORITHMS = ['HS256'];
const ISSUER = 'ferry';

export interface AccessClaims {
  userId: string;
  deviceId: string;
  role: UserRole;
}

/** Verified tokens remembered, so a device's many requests pay for one HMAC check (WebCrypto, async). */
const VERIFIED_CACHE_MAX = 10_000;

export class TokenSigner {
  readonly #secret: Uint8Array;
  readonly #ttl: number;
  /**
   * token → its claims and expiry (seconds). A signature check is a pure function of the token and
   * the secret, so remembering the outcome is safe; expiry is checked at every use, and revocation
   * is not decided here (the auth hook checks the device on every request).
   */
  readonly #verified = new Map<string, { claims: AccessClaims; exp: number }>();

  constructor(secret: Uint8Array, ttlSeconds: number) {
    this.#secret = secret;
    this.#ttl = ttlSeconds;
  }

  get ttl(): number {
    return this.#ttl;
  }

  async sign(c: AccessClaims): Promise<string> {
    return new SignJWT({ did: c.deviceId, role: c.role })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(c.userId)
      .setIssuer(ISSUER)
      .setIssuedAt()
      .setExpirationTime(`${this.#ttl}s`)
      .sign(this.#secret);
  }

  /** Throws UNAUTHORIZED for anything but a valid, unexpired token of ours. */
  async verify(token: string): Promise<AccessClaims> {
    const known = this.#verified.get(token);
    if (known) {
      if (known.exp * 1000 > Date.now()) return known.claims;
      this.#verified.delete(token);
      throw new FerryError('UNAUTHORIZED', 'access token expired');
    }
    try {
      const { payload } = await jwtVerify(token, this.#secret, { algorithms: ALGORITHMS, issuer: ISSUER });
      if (
        typeof payload.sub !== 'string' ||
        typeof payload.did !== 'string' ||
        typeof payload.exp !== 'number'
      )
        throw new Error('claims missing');
      const claims: AccessClaims = {
        userId: payload.sub,
        deviceId: payload.did,
        role: payload.role === 'admin' ? 'admin' : 'user',
      };
      if (this.#verified.size >= VERIFIED_CACHE_MAX)
        this.#verified.delete(this.#verified.keys().next().value!);
      this.#verified.set(token, { claims, exp: payload.exp });
      return claims;
    } catch (e) {
      const expired = e instanceof joseErrors.JWTExpired;
      throw new FerryError('UNAUTHORIZED', expired ? 'access token expired' : 'invalid access token');
    }
  }
}

/** Reads the signing secret, creating a random one with mode 0600 on first start. */
export async function loadOrCreateSecret(path: string, fromEnv?: string): Promise<Uint8Array> {
  if (fromEnv) return new TextEncoder().encode(fromEnv);
  try {
    return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  const secret = randomBytes(32);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, secret.toString('base64url') + '\n', { mode: 0o600, flag: 'wx' }).catch(
    async (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EEXIST') throw e;
    },
  );
  await chmod(path, 0o600);
  return Buffer.from((await readFile(path, 'utf8')).trim(), 'base64url');
}
