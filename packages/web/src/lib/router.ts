// A tiny history-API router: the app has a handful of flat routes, not worth a dependency.

import { useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();
const notify = () => listeners.forEach((fn) => fn());
window.addEventListener('popstate', notify);

export function navigate(to: string, { replace = false } = {}): void {
  if (to === location.pathname + location.search) return;
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  notify();
  window.scrollTo(0, 0);
}

function subscribe(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function useLocation(): { path: string; search: URLSearchParams } {
  const href = useSyncExternalStore(subscribe, () => location.pathname + location.search);
  const url = new URL(href, location.origin);
  return { path: decodeURIComponent(url.pathname), search: url.searchParams };
}

/** Folder path in the browser route: /files/a/b → /a/b; / → /. */
export function folderFromRoute(path: string): string | null {
  if (path === '/' || path === '/files' || path === '/files/') return '/';
  if (path.startsWith('/files/')) return path.slice('/files'.length).replace(/\/+$/, '') || '/';
  return null;
}

export function folderRoute(folder: string): string {
  return folder === '/' ? '/files' : '/files' + folder.split('/').map(encodeURIComponent).join('/');
}

/** Click handler for <a href> links that keeps navigation inside the SPA. */
export function linkClick(e: React.MouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const href = e.currentTarget.getAttribute('href');
  if (!href || !href.startsWith('/') || e.currentTarget.target) return;
  e.preventDefault();
  navigate(href);
}
