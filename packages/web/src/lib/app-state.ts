// App-wide state shared through context: the session, the spaces and the current one, toasts.

import { createContext, useContext, useEffect, useState, useCallback } from 'react';
import type { Session, Space } from '@ferry/client/api/index';

export interface AppState {
  session: Session;
  spaces: Space[];
  /** The current space, or undefined before the list arrives (file calls then use the default). */
  space: Space | undefined;
  setSpaceId: (id: string) => void;
  reloadSpaces: () => void;
  toast: (msg: string) => void;
}

export const AppContext = createContext<AppState | null>(null);

/** Dispatched on window once the file browser has shown its first listing (main.tsx waits for it). */
export const FIRST_SCREEN_EVENT = 'ferry:first-screen';

export function useApp(): AppState {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside the signed-in shell');
  return v;
}

/** Loads data with cancellation of stale answers; `reload` runs it again. */
export function useAsync<T>(
  fn: () => Promise<T>,
  deps: unknown[],
): { data: T | undefined; error: unknown; loading: boolean; reload: () => void } {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => live && setState({ data, error: null, loading: false }),
      (error: unknown) => live && setState((s) => ({ data: s.data, error, loading: false })),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
