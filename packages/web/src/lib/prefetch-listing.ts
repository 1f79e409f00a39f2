// Hands the listing that src/prefetch.ts started before the bundle loaded to the file browser,
// once, and only for the space and folder it was started for.

import type { ListPage } from '@ferry/client/api/index';
import type { Prefetch } from '../prefetch.ts';

export function takePrefetch(
  space: string,
  folder: string,
): ((i: number) => Promise<ListPage | null>) | null {
  const w = window as unknown as { __ferryPrefetch?: Prefetch };
  const p = w.__ferryPrefetch;
  delete w.__ferryPrefetch;
  if (!p || p.space !== space || p.folder !== folder) return null;
  return p.page as (i: number) => Promise<ListPage | null>;
}
