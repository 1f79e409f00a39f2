// The app's one FerryClient, with its session kept in localStorage so a reload stays signed in
// and every tab shares the same (rotating) refresh token.

import { FerryClient, type Session, type TokenStore } from '@ferry/client/api/index';

const KEY = 'ferry.session';

class LocalStorageTokenStore implements TokenStore {
  load(): Session | null {
    try {
      const raw = localStorage.getItem(KEY);
      return raw ? (JSON.parse(raw) as Session) : null;
    } catch {
      return null;
    }
  }
  save(session: Session | null): void {
    if (session) localStorage.setItem(KEY, JSON.stringify(session));
    else localStorage.removeItem(KEY);
  }
}

type Listener = (s: Session | null) => void;
const listeners = new Set<Listener>();

export function onSessionChange(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export const client = new FerryClient({
  tokens: new LocalStorageTokenStore(),
  onSessionChange: (s) => listeners.forEach((fn) => fn(s)),
});

// Another tab signed in or out: follow it.
window.addEventListener('storage', (e) => {
  if (e.key === KEY) listeners.forEach((fn) => fn(client.session));
});
