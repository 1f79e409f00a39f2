// Authentication for every route: a route declares `config: { auth: 'public' | 'user' | 'admin' }`
// (default 'user'); this hook verifies the bearer token and puts the caller on `request.auth`.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FerryError } from '@ferry/core/errors';
import type { AuthContext, AuthService } from '../auth/auth-service.ts';

export type RouteAuth = 'public' | 'user' | 'admin' | 'optional';

declare module 'fastify' {
  interface FastifyContextConfig {
    auth?: RouteAuth;
  }
  interface FastifyRequest {
    auth: AuthContext | null;
  }
}

/** The bearer token of a request: Authorization header, or `?token=` where a route allows it. */
export function bearerToken(request: FastifyRequest): string | undefined {
  const h = request.headers.authorization;
  if (h?.startsWith('Bearer ')) return h.slice(7).trim();
  return undefined;
}

export function installAuthHook(app: FastifyInstance, auth: AuthService): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const mode = request.routeOptions.config?.auth ?? 'user';
    if (mode === 'public') return;
    const token = bearerToken(request) ?? queryToken(request);
    if (!token) {
      if (mode === 'optional') return;
      throw new FerryError('UNAUTHORIZED', 'missing bearer token');
    }
    request.auth = await auth.authenticate(token);
    if (mode === 'admin' && request.auth.role !== 'admin') throw new FerryError('FORBIDDEN', 'admin only');
  });
}

// Constrained clients (watches, the WebSocket upgrade from browsers) cannot always set headers.
function queryToken(request: FastifyRequest): string | undefined {
  const q = request.query as Record<string, unknown> | undefined;
  return typeof q?.token === 'string' && q.token.includes('.') ? q.token : undefined;
}

/** The authenticated caller; routes with auth 'user' or 'admin' always have one. */
export function caller(request: FastifyRequest): AuthContext {
  if (!request.auth) throw new FerryError('UNAUTHORIZED', 'missing bearer token');
  return request.auth;
}
