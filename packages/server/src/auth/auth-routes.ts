// Routes: login, refresh, logout, register, me, users (admin), devices list and revoke.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FerryError } from '@ferry/core/errors';
import { DEVICE_KINDS } from '../store/meta/types.ts';
import { caller } from '../http/auth-hook.ts';
import { Strict, errors } from '../http/schemas.ts';
import { publicUser, type AuthService } from './auth-service.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';

const SessionBody = Type.Object({
  accessToken: Type.String(),
  refreshToken: Type.String(),
  expiresIn: Type.Integer({ description: 'Access token lifetime in seconds' }),
  deviceId: Type.String(),
  user: Type.Object({ id: Type.String(), username: Type.String(), role: Type.String() }),
});

const UserBody = Type.Object({
  id: Type.String(),
  username: Type.String(),
  role: Type.String(),
  quotaBytes: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.Integer(),
});

export function authRoutes({
  auth,
  meta,
  openRegistration,
}: {
  auth: AuthService;
  meta: MetaStore;
  openRegistration: boolean;
}): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.post(
      '/api/v1/auth/login',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Log in; registers the calling device',
          body: Strict({
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 1, maxLength: 1024 }),
            device: Type.Optional(
              Strict({
                name: Type.Optional(Type.String({ maxLength: 128 })),
                kind: Type.Optional(Type.Union(DEVICE_KINDS.map((k) => Type.Literal(k)))),
              }),
            ),
          }),
          response: { 200: SessionBody, ...errors(400, 401, 429) },
        },
      },
      async (request) => auth.login({ ...request.body, ip: request.ip }),
    );

    app.post(
      '/api/v1/auth/refresh',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Rotate a refresh token',
          body: Strict({ refreshToken: Type.String({ minLength: 1, maxLength: 200 }) }),
          response: { 200: SessionBody, ...errors(400, 401) },
        },
      },
      async (request) => auth.refresh(request.body.refreshToken),
    );

    app.post(
      '/api/v1/auth/logout',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['auth'],
          summary: 'Revoke a refresh token and its family',
          body: Strict({ refreshToken: Type.String({ maxLength: 200 }) }),
          response: { 204: Type.Null() },
        },
      },
      async (request, reply) => {
        await auth.logout(request.body.refreshToken);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/api/v1/auth/register',
      {
        config: { auth: openRegistration ? 'optional' : 'admin' },
        schema: {
          tags: ['auth'],
          summary: 'Create a user (admins; anyone when FERRY_OPEN_REGISTRATION=1)',
          body: Strict({
            username: Type.String({ minLength: 1, maxLength: 64 }),
            password: Type.String({ minLength: 8, maxLength: 1024 }),
            role: Type.Optional(Type.Union([Type.Literal('user'), Type.Literal('admin')])),
            quotaBytes: Type.Optional(Type.Union([Type.Integer({ minimum: 0 }), Type.Null()])),
          }),
          response: { 201: UserBody, ...errors(400, 401, 403, 409) },
        },
      },
      async (request, reply) => {
        const isAdmin = request.auth?.role === 'admin';
        if (!isAdmin && (request.body.role === 'admin' || request.body.quotaBytes !== undefined))
          throw new FerryError('FORBIDDEN', 'only admins set roles and quotas');
        const user = await auth.createUser(request.body);
        return reply.status(201).send(publicUser(user));
      },
    );

    app.get(
      '/api/v1/auth/me',
      {
        schema: {
          tags: ['auth'],
          summary: 'The caller',
          response: { 200: Type.Object({ user: UserBody, deviceId: Type.String() }), ...errors(401) },
        },
      },
      async (request) => {
        const me = caller(request);
        const user = await meta.users.byId(me.userId);
        if (!user) throw new FerryError('UNAUTHORIZED', 'user no longer exists');
        return { user: publicUser(user), deviceId: me.deviceId };
      },
    );

    app.get(
      '/api/v1/users',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'All users (admin)',
          response: { 200: Type.Object({ users: Type.Array(UserBody) }), ...errors(401, 403) },
        },
      },
      async () => ({
        users: (await meta.users.list()).map(publicUser),
      }),
    );

    // GET /api/v1/devices (with each device's sync status) lives in devices/devices-routes.ts.

    app.delete(
      '/api/v1/devices/:id',
      {
        schema: {
          tags: ['devices'],
          summary: 'Revoke a device and its tokens',
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          response: { 204: Type.Null(), ...errors(401, 404) },
        },
      },
      async (request, reply) => {
        await auth.revokeDevice(caller(request), request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
