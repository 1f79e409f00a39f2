// SQL stores for users, devices and refresh tokens.

import type { SqlExecutor } from './sql-driver.ts';
import type { DeviceStore, TokenStore, UserStore } from './meta-store.ts';
import type { Device, DeviceKind, RefreshToken, User, UserRole } from './types.ts';
import { num, numOrNull, uniquely } from './sql-util.ts';

type Row = Record<string, unknown>;

const toUser = (r: Row): User => ({
  id: String(r.id),
  username: String(r.username),
  passwordHash: String(r.password_hash),
  role: r.role as UserRole,
  quotaBytes: numOrNull(r.quota_bytes),
  createdAt: num(r.created_at),
});

export class SqlUserStore implements UserStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async create(u: {
    id: string;
    username: string;
    passwordHash: string;
    role: UserRole;
    quotaBytes?: number | null;
  }): Promise<User> {
    const createdAt = Date.now();
    await uniquely(`user "${u.username}"`, () =>
      this.#db.run(
        'INSERT INTO users (id, username, password_hash, role, quota_bytes, created_at) VALUES (?, ?, ?, ?, ?, ?)',
        [u.id, u.username, u.passwordHash, u.role, u.quotaBytes ?? null, createdAt],
      ),
    );
    return {
      id: u.id,
      username: u.username,
      passwordHash: u.passwordHash,
      role: u.role,
      quotaBytes: u.quotaBytes ?? null,
      createdAt,
    };
  }
  async byId(id: string): Promise<User | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM users WHERE id = ?', [id]);
    return r && toUser(r);
  }
  async byUsername(username: string): Promise<User | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM users WHERE username = ?', [username]);
    return r && toUser(r);
  }
  async list(): Promise<User[]> {
    return (await this.#db.all<Row>('SELECT * FROM users ORDER BY username')).map(toUser);
  }
  async count(): Promise<number> {
    return num((await this.#db.get<Row>('SELECT COUNT(*) AS n FROM users'))?.n ?? 0);
  }
  async setPassword(id: string, passwordHash: string): Promise<void> {
    await this.#db.run('UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, id]);
  }
  async setQuota(id: string, quotaBytes: number | null): Promise<void> {
    await this.#db.run('UPDATE users SET quota_bytes = ? WHERE id = ?', [quotaBytes, id]);
  }
}

const toDevice = (r: Row): Device => ({
  id: String(r.id),
  userId: String(r.user_id),
  name: String(r.name),
  kind: r.kind as DeviceKind,
  createdAt: num(r.created_at),
  lastSeenAt: numOrNull(r.last_seen_at),
  revokedAt: numOrNull(r.revoked_at),
  consecutiveFailures: num(r.consecutive_failures),
});

export class SqlDeviceStore implements DeviceStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async create(d: { id: string; userId: string; name: string; kind: DeviceKind }): Promise<Device> {
    const createdAt = Date.now();
    await this.#db.run(
      'INSERT INTO devices (id, user_id, name, kind, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?)',
      [d.id, d.userId, d.name, d.kind, createdAt, createdAt],
    );
    return { ...d, createdAt, lastSeenAt: createdAt, revokedAt: null, consecutiveFailures: 0 };
  }
  async byId(id: string): Promise<Device | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM devices WHERE id = ?', [id]);
    return r && toDevice(r);
  }
  async listByUser(userId: string): Promise<Device[]> {
    return (
      await this.#db.all<Row>('SELECT * FROM devices WHERE user_id = ? ORDER BY created_at', [userId])
    ).map(toDevice);
  }
  async revoke(id: string, at: number): Promise<void> {
    await this.#db.run('UPDATE devices SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL', [at, id]);
    await this.#db.run(
      'UPDATE refresh_tokens SET revoked_at = ? WHERE device_id = ? AND revoked_at IS NULL',
      [at, id],
    );
  }
  async touch(id: string, at: number): Promise<void> {
    await this.#db.run('UPDATE devices SET last_seen_at = ? WHERE id = ?', [at, id]);
  }
  async count(): Promise<number> {
    return num(
      (await this.#db.get<Row>('SELECT COUNT(*) AS n FROM devices WHERE revoked_at IS NULL'))?.n ?? 0,
    );
  }
}

const toToken = (r: Row): RefreshToken => ({
  tokenHash: String(r.token_hash),
  deviceId: String(r.device_id),
  familyId: String(r.family_id),
  expiresAt: num(r.expires_at),
  usedAt: numOrNull(r.used_at),
  revokedAt: numOrNull(r.revoked_at),
});

export class SqlTokenStore implements TokenStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async insert(t: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void> {
    await this.#db.run(
      'INSERT INTO refresh_tokens (token_hash, device_id, family_id, expires_at) VALUES (?, ?, ?, ?)',
      [t.tokenHash, t.deviceId, t.familyId, t.expiresAt],
    );
  }
  async byHash(tokenHash: string): Promise<RefreshToken | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM refresh_tokens WHERE token_hash = ?', [tokenHash]);
    return r && toToken(r);
  }
  async markUsed(tokenHash: string, at: number): Promise<boolean> {
    const { changes } = await this.#db.run(
      'UPDATE refresh_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL AND revoked_at IS NULL',
      [at, tokenHash],
    );
    return changes === 1;
  }
  async revokeFamily(familyId: string, at: number): Promise<void> {
    await this.#db.run(
      'UPDATE refresh_tokens SET revoked_at = ? WHERE family_id = ? AND revoked_at IS NULL',
      [at, familyId],
    );
  }
}
