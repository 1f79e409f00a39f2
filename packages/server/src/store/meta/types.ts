// Records the MetaStore reads and writes. Times are milliseconds since the epoch.

export const USER_ROLES = ['admin', 'user'] as const;
export type UserRole = (typeof USER_ROLES)[number];

export const DEVICE_KINDS = ['desktop', 'mobile', 'web', 'watch', 'other'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

export const SPACE_ROLES = ['owner', 'editor', 'viewer'] as const;
export type SpaceRole = (typeof SPACE_ROLES)[number];

export interface User {
  id: string;
  username: string;
  passwordHash: string;
  role: UserRole;
  quotaBytes: number | null;
  createdAt: number;
}

export interface Device {
  id: string;
  userId: string;
  name: string;
  kind: DeviceKind;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
  consecutiveFailures: number;
}

export interface RefreshToken {
  tokenHash: string;
  deviceId: string;
  familyId: string;
  expiresAt: number;
  usedAt: number | null;
  revokedAt: number | null;
}

export interface Space {
  id: string;
  name: string;
  ownerId: string;
  encrypted: boolean;
  headSeq: number;
  isDefault: boolean;
  createdAt: number;
}

export interface SpaceMember {
  spaceId: string;
  userId: string;
  username: string;
  role: SpaceRole;
}

export type EntryKind = 'file' | 'dir';

/** The current state of one file or folder (deleted ones are in the trash). */
export interface FileEntry {
  id: string;
  spaceId: string;
  path: string;
  kind: EntryKind;
  size: number;
  contentHash: string | null;
  manifestId: string | null;
  version: number;
  versionId: string;
  mtime: number;
  deleted: boolean;
  deletedAt: number | null;
  updatedSeq: number;
}

/** One change of a file: the change feed and the version history are made of these. */
export interface Version {
  id: string;
  spaceId: string;
  fileId: string;
  seq: number;
  version: number;
  path: string;
  prevPath: string | null;
  kind: EntryKind;
  size: number;
  contentHash: string | null;
  manifestId: string | null;
  mtime: number;
  deviceId: string | null;
  baseVersionId: string | null;
  deleted: boolean;
  opId: string | null;
  createdAt: number;
}

export interface Manifest {
  id: string;
  size: number;
  chunkCount: number;
  /** Chunks in file order: hex SHA-256 and length. */
  chunks: ChunkRef[];
}

export interface ChunkRef {
  hash: string;
  size: number;
}

export interface ChunkRecord {
  hash: string;
  size: number;
  storedSize: number;
}
