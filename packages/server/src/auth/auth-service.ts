// Accounts and sessions: users, devices, login with throttling, access tokens, rotating refresh
// tokens with reuse detection (a replayed refresh token revokes its whole family).

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Device, DeviceKind, User, UserRole } from '../store/meta/types.ts';
import { DEVICE_KINDS } from '../store/meta/types.ts';
import { generatePassword, hashPassword, verifyPassword } from './passwords.ts';
import type { AccessClaims, TokenSigner } from './token-signer.ts';
import type { LoginThrottle } from './login-throttle.ts';

export interface AuthContext extends AccessClaims {
  username?: string;
}

export interface Session {
  accessToken: string;
  refreshToken: string;
  expiresIn: number;
  deviceId: string;
  user: { id: string; username: string; role: UserRole };
}

export interface AuthServiceOptions {
  meta: MetaStore;
  signer: TokenSigner;
  throttle: LoginThrottle;
  refreshTokenTtl: number;
  defaultQuotaBytes: number;
}

const USERNAME_RE = /^[A-Za-z0-9._-]{1,64}$/;
const TOUCH_INTERVAL_MS = 60_000;

const hashToken = (t: string) => createHash('sha256').update(t).digest('hex');

export function publicUser(u: User): {
  id: string;
  username: string;
  role: UserRole;
  quotaBytes: number | null;
  createdAt: number;
} {
  return { id: u.id, username: u.username, role: u.role, quotaBytes: u.quotaBytes, createdAt: u.createdAt };
}

export class AuthService {
  readonly #o: AuthServiceOptions;
  readonly #touched = new Map<string, number>();

  constructor(options: AuthServiceOptions) {
    this.#o = options;
  }

  /** Creates a user and their default space in one transaction. */
  async createUser(input: {
    username: string;
    password: string;
    role?: UserRole;
    quotaBytes?: number | null;
  }): Promise<User> {
    if (!USERNAME_RE.test(input.username))
      throw new FerryError('BAD_REQUEST', 'username must be 1-64 letters, digits, . _ -');
    if (typeof input.password !== 'string' || input.password.length < 8 || input.password.length > 1024) {
      throw new FerryError('BAD_REQUEST', 'password must be 8 to 1024 characters');
    }
    const passwordHash = await hashPassword(input.password);
    const quota = input.quotaBytes !== undefined ? input.quotaBytes : this.#o.defaultQuotaBytes || null;
    return this.#o.meta.transaction(async (tx) => {
      const user = await tx.users.create({
        id: randomUUID(),
        username: input.username,
        passwordHash,
        role: input.role ?? 'user',
        quotaBytes: quota,
      });
      await tx.spaces.create({ id: randomUUID(), name: 'default', ownerId: user.id, isDefault: true });
      return user;
    });
  }

  /** First start: creates the admin account. Returns the generated password when one was made. */
  async bootstrapAdmin(
    username: string,
    password: string | undefined,
  ): Promise<{ created: boolean; generatedPassword?: string }> {
    if ((await this.#o.meta.users.count()) > 0) return { created: false };
    const pw = password ?? generatePassword();
    try {
      await this.createUser({ username, password: pw, role: 'admin' });
    } catch (e) {
      // Another instance created it first.
      if (e instanceof FerryError && e.code === 'ALREADY_EXISTS') return { created: false };
      throw e;
    }
    return { created: true, generatedPassword: password ? undefined : pw };
  }

  async login(input: {
    username: string;
    password: string;
    device?: { name?: string; kind?: string };
    ip: string;
  }): Promise<Session> {
    const accountKey = `u:${input.username}`;
    const ipKey = `ip:${input.ip}`;
    this.#o.throttle.check([{ key: accountKey }, { key: ipKey, factor: 5 }]);
    const user = await this.#o.meta.users.byUsername(input.username);
    // Verify against a dummy hash when the user is unknown so timing does not reveal which usernames exist.
    const ok = await verifyPassword(input.password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      this.#o.throttle.fail([accountKey, ipKey]);
      throw new FerryError('INVALID_CREDENTIALS', 'wrong username or password');
    }
    this.#o.throttle.succeed(accountKey);
    const kind = (input.device?.kind ?? 'other') as DeviceKind;
    if (!DEVICE_KINDS.includes(kind))
      throw new FerryError('BAD_REQUEST', `device kind must be one of ${DEVICE_KINDS.join(', ')}`);
    const name = (input.device?.name ?? 'unnamed device').trim().slice(0, 128) || 'unnamed device';
    const device = await this.#o.meta.devices.create({ id: randomUUID(), userId: user.id, name, kind });
    return this.#issue(user, device.id, randomUUID());
  }

  async #issue(user: User, deviceId: string, familyId: string): Promise<Session> {
    const refreshToken = randomBytes(32).toString('base64url');
    await this.#o.meta.tokens.insert({
      tokenHash: hashToken(refreshToken),
      deviceId,
      familyId,
      expiresAt: Date.now() + this.#o.refreshTokenTtl * 1000,
    });
    const accessToken = await this.#o.signer.sign({ userId: user.id, deviceId, role: user.role });
    return {
      accessToken,
      refreshToken,
      expiresIn: this.#o.signer.ttl,
      deviceId,
      user: { id: user.id, username: user.username, role: user.role },
    };
  }

  async refresh(refreshToken: string): Promise<Session> {
    const meta = this.#o.meta;
    const stored =
      typeof refreshToken === 'string' ? await meta.tokens.byHash(hashToken(refreshToken)) : undefined;
    if (!stored || stored.revokedAt !== null || stored.expiresAt < Date.now()) {
      throw new FerryError('UNAUTHORIZED', 'refresh token is invalid, expired or revoked');
    }
    if (!(await meta.tokens.markUsed(stored.tokenHash, Date.now()))) {
      await meta.tokens.revokeFamily(stored.familyId, Date.now());
      throw new FerryError(
        'TOKEN_REUSED',
        'refresh token was already used; all sessions of this login are revoked',
      );
    }
    const device = await meta.devices.byId(stored.deviceId);
    const user = device && (await meta.users.byId(device.userId));
    if (!device || device.revokedAt !== null || !user)
      throw new FerryError('UNAUTHORIZED', 'device is revoked');
    return this.#issue(user, device.id, stored.familyId);
  }

  async logout(refreshToken: string): Promise<void> {
    const stored = await this.#o.meta.tokens.byHash(hashToken(refreshToken));
    if (stored) await this.#o.meta.tokens.revokeFamily(stored.familyId, Date.now());
  }

  /** Verifies a bearer token and that its device still stands; throws UNAUTHORIZED. */
  async authenticate(token: string): Promise<AuthContext> {
    const claims = await this.#o.signer.verify(token);
    const device = await this.#o.meta.devices.byId(claims.deviceId);
    if (!device || device.revokedAt !== null || device.userId !== claims.userId) {
      throw new FerryError('UNAUTHORIZED', 'the device of this token is revoked');
    }
    const now = Date.now();
    if (now - (this.#touched.get(device.id) ?? 0) > TOUCH_INTERVAL_MS) {
      this.#touched.set(device.id, now);
      await this.#o.meta.devices.touch(device.id, now);
    }
    return claims;
  }

  async listDevices(userId: string): Promise<Device[]> {
    return this.#o.meta.devices.listByUser(userId);
  }

  /** Revokes one of the caller's devices; another user's device is NOT_FOUND, as a missing one. */
  async revokeDevice(auth: AuthContext, deviceId: string): Promise<void> {
    const device = await this.#o.meta.devices.byId(deviceId);
    if (!device || (device.userId !== auth.userId && auth.role !== 'admin'))
      throw new NotFoundError('device');
    await this.#o.meta.devices.revoke(deviceId, Date.now());
  }
}

const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
