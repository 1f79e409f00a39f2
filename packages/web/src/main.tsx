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

// The worker precaches the app shell so Ferry opens offline. (The Vite dev server has no /sw.js:
// registration then fails quietly.)
if ('serviceWorker' in navigator) {
  window.addEventListener('load', () => {
    navigator.serviceWorker
      .register('/sw.js', { scope: '/' })
      .catch((e: unknown) => console.warn('service worker not registered', e));
  });
}
