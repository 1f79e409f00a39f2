// Entry point: mounts the app and registers the service worker (production builds only).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { FIRST_SCREEN_EVENT } from './lib/app-state.ts';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The worker precaches the app shell so Ferry opens offline. On a first visit its install downloads
// every asset, which would compete with the first listing for the network, the server and the CPU:
// it is registered once the file browser has shown its first listing (FIRST_SCREEN_EVENT), or a few
// seconds after load on other screens. (The Vite dev server has no /sw.js: registration then fails
// quietly.)
if ('serviceWorker' in navigator) {
  let registered = false;
  const register = () => {
    if (registered) return;
    registered = true;
    navigator.serviceWorker
      .register('/sw.js', { scope: '/' })
      .catch((e: unknown) => console.warn('service worker not registered', e));
  };
  window.addEventListener(FIRST_SCREEN_EVENT, () => setTimeout(register, 0), { once: true });
  window.addEventListener('load', () => setTimeout(register, 5000));
}
