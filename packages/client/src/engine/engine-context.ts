// What the executors share during one pass: the root, the API, the state db, limits and counters.

import type { SyncApi } from '../api/sync-api.ts';
import type { BandwidthLimiter } from './bandwidth-limiter.ts';
import type { StateDb } from './state-db.ts';

export interface PassStats {
  uploaded: number;
  downloaded: number;
  deleted: number;
  renamed: number;
  conflicts: number;
  errors: string[];
  bytesUp: number;
  bytesDown: number;
  /** Ops that could not run this round because the local file moved under us. */
  deferred: number;
}

export function emptyStats(): PassStats {
  return {
    uploaded: 0,
    downloaded: 0,
    deleted: 0,
    renamed: 0,
    conflicts: 0,
    errors: [],
    bytesUp: 0,
    bytesDown: 0,
    deferred: 0,
  };
}

export interface EngineContext {
  root: string;
  spaceId: string;
  api: SyncApi;
  db: StateDb;
  up?: BandwidthLimiter;
  down?: BandwidthLimiter;
  concurrency: number;
  signal?: AbortSignal;
  stats: PassStats;
  onProgress?: (kind: 'up' | 'down', bytes: number) => void;
  log: (msg: string) => void;
}
