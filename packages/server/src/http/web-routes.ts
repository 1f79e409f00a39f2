// Serves the built web app (packages/web/dist) at `/`, with SPA fallback for client-side routes.
// When the web app has not been built, `/` says how to build it instead.

import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';
import { existsSync } from 'node:fs';
import { join, sep } from 'node:path';

// packages/web/dist, seen from the sources (packages/server/src/http) or from the bundle
// (packages/cli/dist, scripts/build-cli.ts).
const webDists = [
  join(import.meta.dirname, '..', '..', '..', 'web', 'dist'),
  join(import.meta.dirname, '..', '..', 'web', 'dist'),
];
export const WEB_DIST = webDists.find((d) => existsSync(join(d, 'index.html'))) ?? webDists[0];

export function webRoutes(dist = WEB_DIST): FastifyPluginAsync {
  return async (app) => {
    if (!existsSync(join(dist, 'index.html'))) {
      app.get('/', { config: { auth: 'public' }, schema: { hide: true } }, async (_request, reply) =>
        reply
          .type('text/html')
          .send(
            '<!doctype html><title>Ferry</title><p>Ferry is running. The web app is not built: run <code>npm run build -w @ferry/web</code>. API docs: <a href="/api/docs">/api/docs</a></p>',
          ),
      );
      return;
    }
    // The static plugin's own routes (/, /assets/…, /sw.js) carry no auth config: make them public.
    app.addHook('onRoute', (route) => {
      route.config = { ...(route.config as object), auth: 'public' };
    });
    await app.register(fastifyStatic, {
      root: dist,
      prefix: '/',
      wildcard: false,
      index: ['index.html'],
      // The build writes .br/.gz beside each asset: sent as the browser accepts, never compressed per request.
      preCompressed: true,
      cacheControl: false,
      setHeaders: (reply, path) => {
        // /assets/ names carry a content hash: cache for a year. The rest (index.html, sw.js, the
        // manifest, icons) keeps its name across versions: revalidate each time.
        const hashed = path.startsWith(join(dist, 'assets') + sep);
        void reply.header('cache-control', hashed ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    // Client-side routes (/files/…, /s/TOKEN) get index.html; unknown /api paths stay JSON 404s.
    app.get('/*', { config: { auth: 'public' }, schema: { hide: true } }, async (request, reply) => {
      const url = request.url.split('?')[0];
      if (url.startsWith('/api/') || /\.[a-z0-9]+$/i.test(url)) {
        return reply.status(404).send({ error: { code: 'NOT_FOUND', message: `no route GET ${url}` } });
      }
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  };
}
