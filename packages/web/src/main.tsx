// Entry point: mounts the app and registers the service worker (production builds only).

import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);

// The worker precaches the app shell so Ferry opens offline. It is registered once the page is
// idle: on a first visit its install downloads every asset, which would otherwise compete with the
// first listing for the network, the server and the CPU. (The Vite dev server has no /sw.js:
// registration then fails quietly.)
if ('serviceWorker' in navigator) {
  const register = () =>
    navigator.serviceWorker
      .register('/sw.js', { scope: '/' })
      .catch((e: unknown) => console.warn('service worker not registered', e));
  window.addEventListener('load', () => {
    if ('requestIdleCallback' in window) requestIdleCallback(() => void register(), { timeout: 3000 });
    else setTimeout(() => void register(), 1000);
  });
}
