// Operations routes: liveness, readiness, Prometheus metrics, the OpenAPI document.

import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';
import type { MetaStore } from '../store/meta/meta-store.ts';

export function opsRoutes({
  meta,
  registry,
  isClosing,
}: {
  meta: MetaStore;
  registry: Registry;
  isClosing: () => boolean;
}): FastifyPluginAsync {
  return async (app) => {
    app.get(
      '/health',
      { config: { auth: 'public' }, schema: { tags: ['ops'], summary: 'Liveness' } },
      async () => ({ status: 'ok' }),
    );

    app.get(
      '/ready',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['ops'],
          summary: 'Readiness: the database answers and the server is not shutting down',
        },
      },
      async (_request, reply) => {
        if (isClosing()) return reply.status(503).send({ status: 'closing' });
        try {
          await meta.users.count();
          return { status: 'ready' };
        } catch {
          return reply.status(503).send({ status: 'database unavailable' });
        }
      },
    );

    app.get(
      '/metrics',
      { config: { auth: 'public' }, schema: { tags: ['ops'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        return reply.header('content-type', registry.contentType).send(await registry.metrics());
      },
    );

    app.get('/api/v1/openapi.json', { config: { auth: 'public' }, schema: { hide: true } }, async () =>
      app.swagger(),
    );
  };
}
