// Wire types of the Ferry REST API v1, as the server sends them. Times are ms since the epoch.

export type Role = 'admin' | 'user';
export type SpaceRole = 'owner' | 'editor' | 'viewer';
export type DeviceKind = 'desktop' | 'mobile' | 'web' | 'watch' | 'other';

export interface User {
  id: string;
  username: string;
  role: Role;
}

export interface LoginResult {
  accessToken: string;
  refreshToken: string;
  /** Seconds until the access token expires. */
  expiresIn: number;
  deviceId: string;
  user: User;
}

/** What the SDK keeps between calls (and what a TokenStore persists). */
export interface Session {
  accessToken: string;
  refreshToken: string;
  /** ms since epoch when the access token stops working. */
  accessExpiresAt: number;
  deviceId: string;
  user: User;
}

export interface FileInfo {
  id: string;
  spaceId: string;
  path: string;
  name: string;
  kind: 'file' | 'dir';
  size: number;
  contentHash: string | null;
  version: number;
  mtime: number;
  deleted: boolean;
  deletedAt: number | null;
}

export interface FileVersion {
  version: number;
  path: string;
  size: number;
  contentHash: string | null;
  mtime: number;
  deviceId: string | null;
  createdAt: number;
  deleted: boolean;
}

export interface ListPage {
  entries: FileInfo[];
  cursor: string | null;
}

export interface Space {
  id: string;
  name: string;
  ownerId: string;
  role: SpaceRole;
  headSeq: number;
  isDefault: boolean;
}

export interface SpaceMember {
  userId: string;
  username: string;
  role: SpaceRole;
}

export interface Checkpoint {
  id: string;
  spaceId?: string;
  name: string;
  seq: number;
  createdAt: number;
}

export interface Device {
  id: string;
  name: string;
  kind: DeviceKind;
  createdAt: number;
  lastSeenAt: number | null;
  revokedAt: number | null;
  current: boolean;
  /** Added by the telemetry API; absent on servers without it. */
  lastSync?: LastSync | null;
  consecutiveFailures?: number;
}

/** The latest sync run of a device, as the devices list reports it. */
export interface LastSync {
  at: number;
  status: 'ok' | 'failed' | 'partial';
  files: number;
  errors: number;
  /** Mbit/s, when the device reported it. */
  speed: number | null;
  durationMs: number | null;
  errorMessage: string | null;
}

/** One reported sync run (the server's snake_case wire format, mapped by DevicesApi.syncHistory). */
export interface SyncEvent {
  id: string;
  deviceId: string;
  /** ms since the epoch */
  timestamp: number;
  filesSynced: number;
  errors: number;
  bytesUp: number | null;
  bytesDown: number | null;
  durationMs: number | null;
  /** Mbit/s, when the device reported it. */
  speed: number | null;
  status: 'ok' | 'failed' | 'partial';
  errorMessage: string | null;
}

export interface FailingDevice {
  deviceId: string;
  name: string;
  userId: string;
  /** Failed syncs in a row, up to now. */
  consecutiveFailures: number;
  /** Failed syncs ever reported. */
  failures: number;
  syncs: number;
  lastError: string | null;
  lastFailureAt: number | null;
  lastSuccessAt: number | null;
  lastSyncAt: number;
}

export interface Share {
  id: string;
  spaceId: string;
  path: string;
  kind: 'file' | 'dir';
  url: string;
  createdAt: number;
  expiresAt: number | null;
  hasPassword: boolean;
  maxDownloads: number | null;
  downloads: number;
  /** Only in the answer to create: the secret part of the link, never shown again. */
  token?: string;
}

export interface CreateShareInput {
  path: string;
  space?: string;
  expiresAt?: number;
  password?: string;
  maxDownloads?: number;
}

/** What the public share page may see, without an account. */
export interface PublicShare {
  name: string;
  kind: 'file' | 'dir';
  size: number;
  mtime: number;
  expiresAt: number | null;
  downloadsLeft: number | null;
  /** For a shared folder: the files inside, relative paths. */
  entries?: { path: string; size: number; kind: 'file' | 'dir' }[];
}
