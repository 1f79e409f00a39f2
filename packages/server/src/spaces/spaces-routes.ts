// Routes: list and create spaces, list and change members.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { caller } from '../http/auth-hook.ts';
import { Strict, errors } from '../http/schemas.ts';
import type { SpacesService, SpaceWithRole } from './spaces-service.ts';

const SpaceBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  ownerId: Type.String(),
  role: Type.String(),
  headSeq: Type.Integer(),
  isDefault: Type.Boolean(),
  encrypted: Type.Boolean(),
});
const MemberBody = Type.Object({ userId: Type.String(), username: Type.String(), role: Type.String() });
const Role = Type.Union([Type.Literal('owner'), Type.Literal('editor'), Type.Literal('viewer')]);

const spaceBody = (s: SpaceWithRole) => ({
  id: s.id,
  name: s.name,
  ownerId: s.ownerId,
  role: s.role,
  headSeq: s.headSeq,
  isDefault: s.isDefault,
  encrypted: s.encrypted,
});

export function spacesRoutes({ spaces }: { spaces: SpacesService }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/spaces',
      {
        schema: {
          tags: ['spaces'],
          summary: 'Spaces you are a member of',
          response: { 200: Type.Object({ spaces: Type.Array(SpaceBody) }), ...errors(401) },
        },
      },
      async (request) => ({
        spaces: (await spaces.list(caller(request))).map(spaceBody),
      }),
    );

    app.post(
      '/api/v1/spaces',
      {
        schema: {
          tags: ['spaces'],
          summary: 'Create a space',
          body: Strict({ name: Type.String({ minLength: 1, maxLength: 64 }) }),
          response: { 201: SpaceBody, ...errors(400, 401, 409) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(spaceBody(await spaces.create(caller(request), request.body.name))),
    );

    app.get(
      '/api/v1/spaces/:id',
      {
        schema: {
          tags: ['spaces'],
          summary: 'One space',
          params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
          response: { 200: SpaceBody, ...errors(401, 404) },
        },
      },
      async (request) => spaceBody(await spaces.resolve(caller(request), request.params.id, 'read')),
    );

    app.get(
      '/api/v1/spaces/:id/members',
      {
        schema: {
          tags: ['spaces'],
          summary: 'Members of a space',
          params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
          response: { 200: Type.Object({ members: Type.Array(MemberBody) }), ...errors(401, 404) },
        },
      },
      async (request) => ({ members: await spaces.members(caller(request), request.params.id) }),
    );

    app.put(
      '/api/v1/spaces/:id/members',
      {
        schema: {
          tags: ['spaces'],
          summary: 'Add a member or change their role (owner only)',
          params: Type.Object({ id: Type.String({ maxLength: 200 }) }),
          body: Strict({ username: Type.String({ minLength: 1, maxLength: 64 }), role: Role }),
          response: { 200: MemberBody, ...errors(400, 401, 403, 404) },
        },
      },
      async (request) =>
        spaces.setMember(caller(request), request.params.id, request.body.username, request.body.role),
    );

    app.delete(
      '/api/v1/spaces/:id/members/:userId',
      {
        schema: {
          tags: ['spaces'],
          summary: 'Remove a member (owner, or yourself)',
          params: Type.Object({
            id: Type.String({ maxLength: 200 }),
            userId: Type.String({ maxLength: 64 }),
          }),
          response: { 204: Type.Null(), ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        await spaces.removeMember(caller(request), request.params.id, request.params.userId);
        return reply.status(204).send(null);
      },
    );
  };
}
