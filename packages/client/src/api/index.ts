// Public surface of the isomorphic Ferry API client.

export { FerryClient, type FerryClientOptions } from './client.ts';
export { FerryApiError, isFerryApiError, CLIENT_ERROR_CODES } from './errors.ts';
export {
  Transport,
  MemoryTokenStore,
  DEFAULT_RETRY,
  backoffDelay,
  sessionFromLogin,
  type TokenStore,
  type TransportOptions,
  type RetryOptions,
  type RequestOptions,
  type UploadProgress,
} from './transport.ts';
export type { AuthApi, LoginInput } from './auth-api.ts';
export type {
  FilesApi,
  ListOptions,
  UploadOptions,
  DownloadOptions,
  FileRef,
  FileHead,
  SpaceOption,
} from './files-api.ts';
export type { SpacesApi } from './spaces-api.ts';
export type { TrashApi } from './trash-api.ts';
export type { SharesApi } from './shares-api.ts';
export type { DevicesApi } from './devices-api.ts';
export type { UsersApi } from './users-api.ts';
export { SyncApi, encodeFrames, decodeFrames, CHUNK_FRAMES_TYPE, FRAME_ZSTD } from './sync-api.ts';
export type {
  ChunkFrame,
  CommitChange,
  CommitResult,
  CommitAnswer,
  FeedChange,
  ChangesAnswer,
  SnapshotAnswer,
  RealtimeHandle,
  ManifestItem,
} from './sync-api.ts';
export type * from './types.ts';
