// Spaces, their members and their checkpoints.

import type { Transport } from './transport.ts';
import type { Checkpoint, FileInfo, Space, SpaceMember, SpaceRole } from './types.ts';

export class SpacesApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  async list(): Promise<Space[]> {
    return (await this.#t.json<{ spaces: Space[] }>('GET', '/api/v1/spaces')).spaces;
  }

  create(name: string): Promise<Space> {
    return this.#t.json('POST', '/api/v1/spaces', { json: { name }, idempotent: false });
  }

  async members(spaceId: string): Promise<SpaceMember[]> {
    return (
      await this.#t.json<{ members: SpaceMember[] }>(
        'GET',
        `/api/v1/spaces/${encodeURIComponent(spaceId)}/members`,
      )
    ).members;
  }

  setMember(spaceId: string, username: string, role: SpaceRole): Promise<SpaceMember> {
    return this.#t.json('PUT', `/api/v1/spaces/${encodeURIComponent(spaceId)}/members`, {
      json: { username, role },
    });
  }

  removeMember(spaceId: string, userId: string): Promise<void> {
    return this.#t.json(
      'DELETE',
      `/api/v1/spaces/${encodeURIComponent(spaceId)}/members/${encodeURIComponent(userId)}`,
    );
  }

  async checkpoints(spaceId: string): Promise<Checkpoint[]> {
    return (
      await this.#t.json<{ checkpoints: Checkpoint[] }>(
        'GET',
        `/api/v1/spaces/${encodeURIComponent(spaceId)}/checkpoints`,
      )
    ).checkpoints;
  }

  createCheckpoint(spaceId: string, name: string): Promise<Checkpoint> {
    return this.#t.json('POST', `/api/v1/spaces/${encodeURIComponent(spaceId)}/checkpoints`, {
      json: { name },
      idempotent: false,
    });
  }

  /** Restores the space (or one folder of it) to the state at a checkpoint. */
  restoreCheckpoint(
    spaceId: string,
    checkpointId: string,
    o: { path?: string } = {},
  ): Promise<{ restored?: number; entries?: FileInfo[] }> {
    return this.#t.json(
      'POST',
      `/api/v1/spaces/${encodeURIComponent(spaceId)}/checkpoints/${encodeURIComponent(checkpointId)}/restore`,
      { json: o, idempotent: true },
    );
  }
}
