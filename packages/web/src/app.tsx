// The app shell: public share pages, sign-in, and the signed-in layout with its navigation.
// Only the file browser is in the initial bundle; every other screen is loaded on demand.

import { lazy, Suspense, useCallback, useEffect, useMemo, useState, useSyncExternalStore } from 'react';
import type { Session, Space } from '@ferry/client/api/index';
import { client, onSessionChange } from './lib/api.ts';
import { AppContext, type AppState } from './lib/app-state.ts';
import { folderFromRoute, linkClick, navigate, useLocation } from './lib/router.ts';
import { getQueueView, loadQueue, pump, subscribeQueue } from './lib/upload-queue.ts';
import { LISTINGS, idbClear } from './lib/idb.ts';
import { LoginScreen } from './screens/login.tsx';
import { BrowserScreen } from './screens/browser.tsx';

const TrashScreen = lazy(() => import('./screens/trash.tsx'));
const ConflictsScreen = lazy(() => import('./screens/conflicts.tsx'));
const SharesScreen = lazy(() => import('./screens/shares.tsx'));
const DevicesScreen = lazy(() => import('./screens/devices.tsx'));
const SpacesScreen = lazy(() => import('./screens/spaces.tsx'));
const CheckpointsScreen = lazy(() => import('./screens/checkpoints.tsx'));
const AdminScreen = lazy(() => import('./screens/admin.tsx'));
const QueueScreen = lazy(() => import('./screens/queue.tsx'));
const PublicShareScreen = lazy(() => import('./screens/public-share.tsx'));

const SPACE_KEY = 'ferry.space';
const SPACES_KEY = 'ferry.spaces';

/** Signs out and forgets what this device cached for the account (queued uploads stay, tagged with their owner). */
async function signOut(): Promise<void> {
  localStorage.removeItem(SPACES_KEY);
  localStorage.removeItem(SPACE_KEY);
  await idbClear(LISTINGS).catch(() => undefined);
  await client.auth.logout().catch(() => undefined);
}

export function App() {
  const { path } = useLocation();
  const [session, setSession] = useState<Session | null>(client.session);
  useEffect(() => onSessionChange(setSession), []);

  if (path.startsWith('/s/')) {
    return (
      <Suspense fallback={<Loading />}>
        <PublicShareScreen token={path.slice(3)} />
      </Suspense>
    );
  }
  if (!session) return <LoginScreen />;
  return <Shell session={session} path={path} />;
}

function Loading() {
  return (
    <p className="loading" role="status">
      Loading…
    </p>
  );
}

const NAV: { href: string; label: string; admin?: boolean }[] = [
  { href: '/files', label: 'Files' },
  { href: '/queue', label: 'Uploads' },
  { href: '/trash', label: 'Trash' },
  { href: '/conflicts', label: 'Conflicts' },
  { href: '/shares', label: 'Shares' },
  { href: '/spaces', label: 'Spaces' },
  { href: '/checkpoints', label: 'Checkpoints' },
  { href: '/devices', label: 'Devices' },
  { href: '/admin', label: 'Users', admin: true },
];

function Shell({ session, path }: { session: Session; path: string }) {
  // The last-known spaces, so the browser can show cached listings when the app starts offline.
  const [spaces, setSpaces] = useState<Space[]>(() => {
    try {
      return JSON.parse(localStorage.getItem(SPACES_KEY) ?? '[]') as Space[];
    } catch {
      return [];
    }
  });
  const [spaceId, setSpaceIdState] = useState<string | null>(() => localStorage.getItem(SPACE_KEY));
  const [toastMsg, setToastMsg] = useState<string | null>(null);
  const [menuOpen, setMenuOpen] = useState(false);
  const queue = useSyncExternalStore(subscribeQueue, getQueueView);

  const reloadSpaces = useCallback(() => {
    client.spaces.list().then(
      (list) => {
        setSpaces(list);
        localStorage.setItem(SPACES_KEY, JSON.stringify(list));
      },
      () => undefined,
    );
  }, []);
  useEffect(() => {
    reloadSpaces();
    void loadQueue();
    pump();
  }, [reloadSpaces, session.user.id]);

  const setSpaceId = useCallback((id: string) => {
    localStorage.setItem(SPACE_KEY, id);
    setSpaceIdState(id);
    navigate('/files');
  }, []);

  const toast = useCallback((msg: string) => setToastMsg(msg), []);
  useEffect(() => {
    if (!toastMsg) return;
    const t = setTimeout(() => setToastMsg(null), 4000);
    return () => clearTimeout(t);
  }, [toastMsg]);

  const space = spaces.find((s) => s.id === spaceId) ?? spaces.find((s) => s.isDefault) ?? spaces[0];
  const state: AppState = useMemo(
    () => ({ session, spaces, space, setSpaceId, reloadSpaces, toast }),
    [session, spaces, space, setSpaceId, reloadSpaces, toast],
  );

  useEffect(() => setMenuOpen(false), [path]);
  const folder = folderFromRoute(path);
  const section = folder !== null ? '/files' : '/' + path.split('/')[1];

  let screen;
  if (folder !== null) screen = <BrowserScreen folder={folder} />;
  else if (path === '/trash') screen = <TrashScreen />;
  else if (path === '/conflicts') screen = <ConflictsScreen />;
  else if (path === '/shares') screen = <SharesScreen />;
  else if (path === '/devices') screen = <DevicesScreen />;
  else if (path === '/spaces') screen = <SpacesScreen />;
  else if (path === '/checkpoints') screen = <CheckpointsScreen />;
  else if (path === '/queue') screen = <QueueScreen />;
  else if (path === '/admin' && session.user.role === 'admin') screen = <AdminScreen />;
  else
    screen = (
      <section className="empty">
        <h1>Not found</h1>
        <a href="/files" onClick={linkClick}>
          Back to files
        </a>
      </section>
    );

  return (
    <AppContext.Provider value={state}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <button
          type="button"
          className="icon-btn menu-btn"
          aria-expanded={menuOpen}
          aria-controls="nav"
          aria-label="Menu"
          onClick={() => setMenuOpen((o) => !o)}
        >
          ☰
        </button>
        <a href="/files" className="brand" onClick={linkClick}>
          Ferry
        </a>
        {spaces.length > 1 ? (
          <label className="space-pick">
            <span className="sr-only">Space</span>
            <select value={space?.id ?? ''} onChange={(e) => setSpaceId(e.target.value)}>
              {spaces.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.name}
                </option>
              ))}
            </select>
          </label>
        ) : (
          <span className="space-name">{space?.name}</span>
        )}
        <span className="grow" />
        {!queue.online && (
          <span className="badge offline" role="status">
            Offline
          </span>
        )}
        {queue.pending > 0 && (
          <a
            href="/queue"
            className="badge"
            onClick={linkClick}
            aria-label={`${queue.pending} uploads pending`}
            data-testid="queue-count"
          >
            ↑ {queue.pending}
          </a>
        )}
        <button type="button" className="ghost" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <div className="layout">
        <nav id="nav" className={menuOpen ? 'open' : ''} aria-label="Main">
          <ul>
            {NAV.filter((n) => !n.admin || session.user.role === 'admin').map((n) => (
              <li key={n.href}>
                <a href={n.href} onClick={linkClick} aria-current={section === n.href ? 'page' : undefined}>
                  {n.label}
                  {n.href === '/queue' && queue.pending > 0 ? ` (${queue.pending})` : ''}
                </a>
              </li>
            ))}
          </ul>
          <p className="who">Signed in as {session.user.username}</p>
        </nav>
        <main id="main" tabIndex={-1}>
          <Suspense fallback={<Loading />}>{screen}</Suspense>
        </main>
      </div>
      <div className="toast" role="status" aria-live="polite">
        {toastMsg}
      </div>
    </AppContext.Provider>
  );
}
