// Runs before the app's bundle has loaded (a separate, tiny entry in index.html): when the page is a
// folder of the file browser and this browser holds a live session, it starts listing that folder
// at once, so the listing and the app's JavaScript load side by side instead of one after the other.
// The file browser takes the pages over (see takePrefetch in lib/prefetch-listing.ts); any failure
// here is ignored and the app lists the folder itself. No imports: this must stay a few hundred bytes.

interface Page {
  entries: unknown[];
  cursor: string | null;
}

export interface Prefetch {
  space: string;
  folder: string;
  /** The i-th page of the listing, or null after the last one. */
  page: (i: number) => Promise<Page | null>;
}

function start(): Prefetch | undefined {
  const path = decodeURIComponent(location.pathname).replace(/\/+$/, '');
  if (path !== '' && path !== '/files' && !path.startsWith('/files/')) return;
  const folder = path.slice('/files'.length) || '/';
  const session = JSON.parse(localStorage.getItem('ferry.session') ?? 'null') as {
    accessToken?: string;
    accessExpiresAt?: number;
  } | null;
  if (!session?.accessToken || (session.accessExpiresAt ?? 0) < Date.now() + 10_000) return;
  const spaces = JSON.parse(localStorage.getItem('ferry.spaces') ?? '[]') as {
    id: string;
    isDefault: boolean;
  }[];
  const want = localStorage.getItem('ferry.space');
  const space = (spaces.find((s) => s.id === want) ?? spaces.find((s) => s.isDefault) ?? spaces[0])?.id;
  if (!space) return;
  const get = async (cursor: string | null): Promise<Page> => {
    const q = new URLSearchParams({ path: folder, space, limit: '5000' });
    if (cursor) q.set('cursor', cursor);
    const res = await fetch(`/api/v1/files/list?${q}`, {
      headers: { authorization: `Bearer ${session.accessToken}`, accept: 'application/json' },
    });
    if (!res.ok) throw new Error(`list ${res.status}`);
    return (await res.json()) as Page;
  };
  const pages: Promise<Page | null>[] = [get(null)];
  const page = (i: number): Promise<Page | null> =>
    (pages[i] ??= page(i - 1).then((p) => (p?.cursor ? get(p.cursor) : null)));
  // Fetch every page now, one after another; errors surface to whoever takes them.
  void (async () => {
    for (let i = 0; await page(i).catch(() => null); i++);
  })();
  return { space, folder, page };
}

try {
  (window as unknown as { __ferryPrefetch?: Prefetch }).__ferryPrefetch = start();
} catch {
  // No storage, bad JSON: the app lists the folder itself.
}
