// Last-seen folder listings, kept in IndexedDB so the browser shows them while offline.

import type { FileInfo } from '@ferry/client/api/index';
import { LISTINGS, idbGet, idbPut } from './idb.ts';

export interface CachedListing {
  entries: FileInfo[];
  savedAt: number;
}

const key = (space: string, path: string) => `${space}\u0000${path}`;

export async function saveListing(space: string, path: string, entries: FileInfo[]): Promise<void> {
  await idbPut(LISTINGS, { entries, savedAt: Date.now() } satisfies CachedListing, key(space, path)).catch(
    () => undefined,
  );
}

export async function loadListing(space: string, path: string): Promise<CachedListing | undefined> {
  return idbGet<CachedListing>(LISTINGS, key(space, path)).catch(() => undefined);
}
