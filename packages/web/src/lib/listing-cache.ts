// Last-seen folder listings, kept in IndexedDB so the browser shows them while offline.
// A listing is stored as one JSON string: IndexedDB copies a string at memory speed, while a
// structured clone of 5,000 entry objects held the main thread for a tenth of a second or more.
// Saving waits until the browser is idle, so it never delays the listing's first paint.

import type { FileInfo } from '@ferry/client/api/index';
import { LISTINGS, idbGet, idbPut } from './idb.ts';

export interface CachedListing {
  entries: FileInfo[];
  savedAt: number;
}

/** What is stored: `entries` as JSON text (older versions of the app stored the array itself). */
interface StoredListing {
  entries: string | FileInfo[];
  savedAt: number;
}

const key = (space: string, path: string) => `${space}\u0000${path}`;

const whenIdle = (fn: () => void) =>
  typeof requestIdleCallback === 'function'
    ? requestIdleCallback(fn, { timeout: 2000 })
    : setTimeout(fn, 200);

export function saveListing(space: string, path: string, entries: FileInfo[]): Promise<void> {
  return new Promise((resolve) =>
    whenIdle(() => {
      const stored: StoredListing = { entries: JSON.stringify(entries), savedAt: Date.now() };
      idbPut(LISTINGS, stored, key(space, path)).then(resolve, () => resolve());
    }),
  );
}

export async function loadListing(space: string, path: string): Promise<CachedListing | undefined> {
  try {
    const stored = await idbGet<StoredListing>(LISTINGS, key(space, path));
    if (!stored) return undefined;
    const entries =
      typeof stored.entries === 'string' ? (JSON.parse(stored.entries) as FileInfo[]) : stored.entries;
    return { entries, savedAt: stored.savedAt };
  } catch {
    return undefined;
  }
}
