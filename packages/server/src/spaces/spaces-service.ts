// Spaces and membership, and THE one place where a caller's role in a space is checked.
// A space the caller is not a member of is NOT_FOUND, exactly like a missing one.

import { randomUUID } from 'node:crypto';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Space, SpaceMember, SpaceRole } from '../store/meta/types.ts';
import { SPACE_ROLES } from '../store/meta/types.ts';
import type { AuthContext } from '../auth/auth-service.ts';

/** What an action needs: read (viewer+), write (editor+), manage (owner). */
export type Access = 'read' | 'write' | 'manage';

const RANK: Record<SpaceRole, number> = { viewer: 1, editor: 2, owner: 3 };
const NEEDS: Record<Access, number> = { read: 1, write: 2, manage: 3 };

export type SpaceWithRole = Space & { role: SpaceRole };

// eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
const NAME_RE = /^[^\u0000-\u001f/\\]{1,64}$/;

export class SpacesService {
  readonly #meta: MetaStore;

  constructor({ meta }: { meta: MetaStore }) {
    this.#meta = meta;
  }

  /**
   * Resolves `ref` (a space id or name; default: the caller's default space) to a space the caller
   * may act on with `need`. Non-members get NOT_FOUND; members with too low a role get FORBIDDEN.
   */
  async resolve(auth: AuthContext, ref: string | undefined, need: Access): Promise<SpaceWithRole> {
    let space: Space | undefined;
    if (!ref) space = await this.#meta.spaces.defaultFor(auth.userId);
    else {
      space = await this.#meta.spaces.byId(ref);
      if (!space) {
        const mine = await this.#meta.spaces.listForUser(auth.userId);
        space =
          mine.find((s) => s.name === ref && s.ownerId === auth.userId) ?? mine.find((s) => s.name === ref);
      }
    }
    const role = space && (await this.#meta.spaces.roleOf(space.id, auth.userId));
    if (!space || !role) throw new NotFoundError('space');
    if (RANK[role] < NEEDS[need])
      throw new FerryError('FORBIDDEN', `your role "${role}" in this space does not allow this`);
    return { ...space, role };
  }

  list(auth: AuthContext): Promise<SpaceWithRole[]> {
    return this.#meta.spaces.listForUser(auth.userId);
  }

  async create(auth: AuthContext, name: string): Promise<SpaceWithRole> {
    if (typeof name !== 'string' || !NAME_RE.test(name.trim()))
      throw new FerryError(
        'INVALID_NAME',
        'space name must be 1-64 characters, no slashes or control characters',
      );
    const space = await this.#meta.transaction((tx) =>
      tx.spaces.create({ id: randomUUID(), name: name.trim(), ownerId: auth.userId }),
    );
    return { ...space, role: 'owner' };
  }

  async members(auth: AuthContext, ref: string): Promise<SpaceMember[]> {
    const space = await this.resolve(auth, ref, 'read');
    return this.#meta.spaces.members(space.id);
  }

  async setMember(auth: AuthContext, ref: string, username: string, role: SpaceRole): Promise<SpaceMember> {
    const space = await this.resolve(auth, ref, 'manage');
    if (!SPACE_ROLES.includes(role))
      throw new FerryError('BAD_REQUEST', `role must be one of ${SPACE_ROLES.join(', ')}`);
    const user = await this.#meta.users.byUsername(username);
    if (!user) throw new NotFoundError('user');
    if (user.id === space.ownerId && role !== 'owner')
      throw new FerryError('BAD_REQUEST', "the owner's role cannot be changed");
    await this.#meta.spaces.setMember(space.id, user.id, role);
    return { spaceId: space.id, userId: user.id, username: user.username, role };
  }

  async removeMember(auth: AuthContext, ref: string, userId: string): Promise<void> {
    const space = await this.resolve(auth, ref, userId === auth.userId ? 'read' : 'manage');
    if (userId === space.ownerId) throw new FerryError('BAD_REQUEST', 'the owner cannot be removed');
    await this.#meta.spaces.removeMember(space.id, userId);
  }
}
