// SQL store for spaces and their members.

import type { SqlExecutor } from './sql-driver.ts';
import type { SpaceStore } from './meta-store.ts';
import type { Space, SpaceMember, SpaceRole } from './types.ts';
import { bool, num, uniquely } from './sql-util.ts';

type Row = Record<string, unknown>;

const toSpace = (r: Row): Space => ({
  id: String(r.id),
  name: String(r.name),
  ownerId: String(r.owner_id),
  encrypted: bool(r.encrypted),
  headSeq: num(r.head_seq),
  isDefault: bool(r.is_default),
  createdAt: num(r.created_at),
});

export class SqlSpaceStore implements SpaceStore {
  readonly #db: SqlExecutor;
  constructor(db: SqlExecutor) {
    this.#db = db;
  }
  async create(s: {
    id: string;
    name: string;
    ownerId: string;
    isDefault?: boolean;
    encrypted?: boolean;
  }): Promise<Space> {
    const createdAt = Date.now();
    await uniquely(`space "${s.name}"`, () =>
      this.#db.run(
        'INSERT INTO spaces (id, name, owner_id, encrypted, head_seq, is_default, created_at) VALUES (?, ?, ?, ?, 0, ?, ?)',
        [s.id, s.name, s.ownerId, s.encrypted ? 1 : 0, s.isDefault ? 1 : 0, createdAt],
      ),
    );
    await this.#db.run('INSERT INTO space_members (space_id, user_id, role) VALUES (?, ?, ?)', [
      s.id,
      s.ownerId,
      'owner',
    ]);
    return {
      id: s.id,
      name: s.name,
      ownerId: s.ownerId,
      encrypted: !!s.encrypted,
      headSeq: 0,
      isDefault: !!s.isDefault,
      createdAt,
    };
  }
  async byId(id: string): Promise<Space | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM spaces WHERE id = ?', [id]);
    return r && toSpace(r);
  }
  async byOwnerAndName(ownerId: string, name: string): Promise<Space | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM spaces WHERE owner_id = ? AND name = ?', [
      ownerId,
      name,
    ]);
    return r && toSpace(r);
  }
  async defaultFor(userId: string): Promise<Space | undefined> {
    const r = await this.#db.get<Row>('SELECT * FROM spaces WHERE owner_id = ? AND is_default = 1', [userId]);
    return r && toSpace(r);
  }
  async listForUser(userId: string): Promise<(Space & { role: SpaceRole })[]> {
    const rows = await this.#db.all<Row>(
      'SELECT s.*, m.role AS member_role FROM spaces s JOIN space_members m ON m.space_id = s.id WHERE m.user_id = ? ORDER BY s.is_default DESC, s.name',
      [userId],
    );
    return rows.map((r) => ({ ...toSpace(r), role: r.member_role as SpaceRole }));
  }
  async roleOf(spaceId: string, userId: string): Promise<SpaceRole | undefined> {
    const r = await this.#db.get<Row>('SELECT role FROM space_members WHERE space_id = ? AND user_id = ?', [
      spaceId,
      userId,
    ]);
    return r?.role as SpaceRole | undefined;
  }
  async members(spaceId: string): Promise<SpaceMember[]> {
    const rows = await this.#db.all<Row>(
      'SELECT m.space_id, m.user_id, m.role, u.username FROM space_members m JOIN users u ON u.id = m.user_id WHERE m.space_id = ? ORDER BY u.username',
      [spaceId],
    );
    return rows.map((r) => ({
      spaceId: String(r.space_id),
      userId: String(r.user_id),
      username: String(r.username),
      role: r.role as SpaceRole,
    }));
  }
  async setMember(spaceId: string, userId: string, role: SpaceRole): Promise<void> {
    await this.#db.run(
      'INSERT INTO space_members (space_id, user_id, role) VALUES (?, ?, ?) ON CONFLICT (space_id, user_id) DO UPDATE SET role = excluded.role',
      [spaceId, userId, role],
    );
  }
  async removeMember(spaceId: string, userId: string): Promise<void> {
    await this.#db.run('DELETE FROM space_members WHERE space_id = ? AND user_id = ?', [spaceId, userId]);
  }
  async nextSeq(spaceId: string): Promise<number> {
    const r = await this.#db.get<Row>(
      'UPDATE spaces SET head_seq = head_seq + 1 WHERE id = ? RETURNING head_seq',
      [spaceId],
    );
    if (!r) throw new Error(`space ${spaceId} vanished during a commit`);
    return num(r.head_seq);
  }
}
