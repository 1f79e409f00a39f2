// MetaStore: Ferry's metadata database, as small stores by concern. One implementation
// (SqlMetaStore) runs on SQLite or PostgreSQL through a SqlDriver; both pass the same contract suite
// (meta-store.contract.ts). Methods throw FerryError subclasses for domain failures
// (ALREADY_EXISTS on a unique clash), never driver errors for expected cases.

import type {
  ChunkRecord,
  Device,
  DeviceKind,
  FileEntry,
  Manifest,
  RefreshToken,
  Space,
  SpaceMember,
  SpaceRole,
  User,
  UserRole,
  Version,
} from './types.ts';
import type { TelemetryStore } from './sql-telemetry-store.ts';

export interface UserStore {
  /** Throws ALREADY_EXISTS when the username is taken. */
  create(u: {
    id: string;
    username: string;
    passwordHash: string;
    role: UserRole;
    quotaBytes?: number | null;
  }): Promise<User>;
  byId(id: string): Promise<User | undefined>;
  byUsername(username: string): Promise<User | undefined>;
  list(): Promise<User[]>;
  count(): Promise<number>;
  setPassword(id: string, passwordHash: string): Promise<void>;
  setQuota(id: string, quotaBytes: number | null): Promise<void>;
}

export interface DeviceStore {
  create(d: { id: string; userId: string; name: string; kind: DeviceKind }): Promise<Device>;
  byId(id: string): Promise<Device | undefined>;
  listByUser(userId: string): Promise<Device[]>;
  /** Marks the device revoked and revokes all its refresh tokens. */
  revoke(id: string, at: number): Promise<void>;
  touch(id: string, at: number): Promise<void>;
  count(): Promise<number>;
}

export interface TokenStore {
  insert(t: Omit<RefreshToken, 'usedAt' | 'revokedAt'>): Promise<void>;
  byHash(tokenHash: string): Promise<RefreshToken | undefined>;
  /** Atomically marks a token used; false when it was already used or revoked (a replay). */
  markUsed(tokenHash: string, at: number): Promise<boolean>;
  revokeFamily(familyId: string, at: number): Promise<void>;
}

export interface SpaceStore {
  /** Creates the space and makes its owner a member with role owner. Throws ALREADY_EXISTS. */
  create(s: {
    id: string;
    name: string;
    ownerId: string;
    isDefault?: boolean;
    encrypted?: boolean;
  }): Promise<Space>;
  byId(id: string): Promise<Space | undefined>;
  byOwnerAndName(ownerId: string, name: string): Promise<Space | undefined>;
  defaultFor(userId: string): Promise<Space | undefined>;
  /** Spaces the user is a member of, with their role. */
  listForUser(userId: string): Promise<(Space & { role: SpaceRole })[]>;
  roleOf(spaceId: string, userId: string): Promise<SpaceRole | undefined>;
  members(spaceId: string): Promise<SpaceMember[]>;
  setMember(spaceId: string, userId: string, role: SpaceRole): Promise<void>;
  removeMember(spaceId: string, userId: string): Promise<void>;
  /** Increments and returns the space's head seq (the caller is inside a transaction). */
  nextSeq(spaceId: string): Promise<number>;
}

export interface ListOptions {
  recursive?: boolean;
  limit: number;
  /** Return entries whose path sorts after this one. */
  after?: string;
}

export interface FileStore {
  byId(spaceId: string, id: string): Promise<FileEntry | undefined>;
  /** The live (not deleted) entry at a path. */
  byPath(spaceId: string, path: string): Promise<FileEntry | undefined>;
  /** Live entries under a folder, ordered by path. */
  list(spaceId: string, dir: string, options: ListOptions): Promise<FileEntry[]>;
  /** Live entries whose path contains `text` (case-insensitive), ordered by path. */
  search(spaceId: string, text: string, limit: number): Promise<FileEntry[]>;
  /** Deleted entries under `dir` (inclusive) that were deleted at `deletedAt` (one delete of a folder). */
  deletedTogether(spaceId: string, dir: string, deletedAt: number): Promise<FileEntry[]>;
  /** Deleted entries (the trash), newest deletion first. */
  trash(spaceId: string, options: { limit: number; olderThan?: number }): Promise<FileEntry[]>;
  /** Inserts or replaces the current state of a file. Throws ALREADY_EXISTS if another live entry holds the path. */
  upsert(e: FileEntry): Promise<void>;
  /** Removes a trashed entry for good (its versions stay until pruned). */
  purge(spaceId: string, id: string): Promise<void>;
  addVersion(v: Version): Promise<void>;
  versions(fileId: string): Promise<Version[]>;
  version(fileId: string, version: number): Promise<Version | undefined>;
  versionByOp(spaceId: string, opId: string): Promise<Version | undefined>;
  /** Changes of a space with seq > since, in seq order. */
  changes(spaceId: string, since: number, limit: number): Promise<Version[]>;
  /** Total size of live files in spaces the user owns (quota usage). */
  usageOf(userId: string): Promise<number>;
  /** Sum of sizes of live files across all spaces (the logical bytes metric). */
  logicalBytes(): Promise<number>;
}

export interface ContentStore {
  /** Stores manifests (ignores ones already stored), many rows a statement. */
  putManifests(ms: readonly Manifest[]): Promise<void>;
  manifest(id: string): Promise<Manifest | undefined>;
  /** Records chunks as stored (ignores ones already recorded). */
  recordChunks(chunks: ChunkRecord[]): Promise<void>;
  /** The subset of `hashes` not recorded. */
  missingChunks(hashes: string[]): Promise<string[]>;
  stats(): Promise<{ chunks: number; storedBytes: number; logicalChunkBytes: number }>;
}

export interface SyncStore {
  /** Records that a user uploaded these chunks: they become present for that user. */
  addUserChunks(userId: string, hashes: readonly string[]): Promise<void>;
  /** Records that a space references these chunks: they become present for its members. */
  addSpaceChunks(spaceId: string, hashes: readonly string[]): Promise<void>;
  /** How far space_chunks covers the space's versions (a seq). */
  chunkIndexSeq(spaceId: string): Promise<number>;
  setChunkIndexSeq(spaceId: string, seq: number): Promise<void>;
  /** Manifest ids of the space's versions after `since`, in seq order. */
  manifestsSince(
    spaceId: string,
    since: number,
    limit: number,
  ): Promise<{ manifestId: string; seq: number }[]>;
  /** The subset of `hashes` that is stored and that the user uploaded or can read through a space, with their sizes. */
  visibleChunks(userId: string, hashes: readonly string[]): Promise<Map<string, number>>;
  /** The stored results (parsed JSON) of those of `opIds` that were committed, by opId. */
  opResults(spaceId: string, opIds: readonly string[]): Promise<Map<string, unknown>>;
  /** Stores commit results under their opIds; a second save of an opId is ignored. */
  saveOpResults(
    spaceId: string,
    results: readonly { opId: string; result: unknown }[],
    at: number,
  ): Promise<void>;
  /** File id and version number of a version id in a space. */
  versionRef(spaceId: string, versionId: string): Promise<{ fileId: string; version: number } | undefined>;
  /** True when some version of the space references the manifest. */
  manifestInSpace(spaceId: string, manifestId: string): Promise<boolean>;
  /** The retention horizon: versions with seq <= it may be pruned (0 = nothing pruned). */
  minSeq(spaceId: string): Promise<number>;
  /** Raises the horizon (never lowers it); called by whatever prunes versions. */
  setMinSeq(spaceId: string, seq: number): Promise<void>;
  /** Takes the space's row lock until the transaction ends, so commits of one space run one at a time. */
  lockSpace(spaceId: string): Promise<void>;
  /** The cursor a device last pulled a space's changes from. */
  setCursor(deviceId: string, spaceId: string, seq: number, at: number): Promise<void>;
  cursors(deviceId: string): Promise<{ spaceId: string; seq: number; updatedAt: number }[]>;
}

export interface MetaStore {
  readonly dialect: 'sqlite' | 'postgres';
  readonly users: UserStore;
  readonly devices: DeviceStore;
  readonly tokens: TokenStore;
  readonly spaces: SpaceStore;
  readonly files: FileStore;
  readonly content: ContentStore;
  readonly sync: SyncStore;
  /** Fleet telemetry: sync events, device sync state, ingest tokens. */
  readonly telemetry: TelemetryStore;
  /** Runs `fn` atomically against a MetaStore bound to one transaction. */
  transaction<T>(fn: (tx: MetaStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
