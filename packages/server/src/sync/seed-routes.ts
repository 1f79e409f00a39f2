// The seed documents' sync routes (S1: /sync/status, /sync/push, /sync/pull, /sync/delta), mapped
// onto the sync protocol: push = commit, pull = change feed, delta = a file's manifest delta.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { caller } from '../http/auth-hook.ts';
import { SpaceQuery, errors } from '../http/schemas.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { SyncDeps } from './sync-routes.ts';
import { BINARY, clientGone, COMMIT_BODY_LIMIT } from './sync-routes.ts';
import { MANIFEST_CONTENT_TYPE } from './manifest-service.ts';
import { ChangesQuery, ChangesReply, CommitBody, CommitReply, Id } from './sync-schemas.ts';

const StatusReply = Type.Object({
  deviceId: Type.String(),
  spaces: Type.Array(
    Type.Object({
      space: Type.String(),
      name: Type.String(),
      role: Type.String(),
      headSeq: Type.Integer(),
      cursor: Type.Union([Type.Integer(), Type.Null()], {
        description: 'The last `since` this device pulled with',
      }),
      pending: Type.Union([Type.Integer(), Type.Null()], {
        description: 'Changes this device has not pulled yet (headSeq - cursor)',
      }),
      lastPullAt: Type.Union([Type.Integer(), Type.Null()]),
    }),
  ),
});

export function seedSyncRoutes(d: SyncDeps & { meta: MetaStore }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['sync'];

    app.get(
      '/api/v1/sync/status',
      {
        schema: {
          tags,
          summary: "This device's sync state per space: head seq, its last pulled cursor, changes pending",
          querystring: Type.Object({ space: SpaceQuery }, { additionalProperties: false }),
          response: { 200: StatusReply, ...errors(401, 404) },
        },
      },
      async (request) => {
        const me = caller(request);
        const spaces = request.query.space
          ? [await d.spaces.resolve(me, request.query.space, 'read')]
          : await d.spaces.list(me);
        const cursors = new Map((await d.meta.sync.cursors(me.deviceId)).map((c) => [c.spaceId, c]));
        return {
          deviceId: me.deviceId,
          spaces: spaces.map((s) => {
            const c = cursors.get(s.id);
            return {
              space: s.id,
              name: s.name,
              role: s.role,
              headSeq: s.headSeq,
              cursor: c?.seq ?? null,
              pending: c ? Math.max(s.headSeq - c.seq, 0) : null,
              lastPullAt: c?.updatedAt ?? null,
            };
          }),
        };
      },
    );

    app.post(
      '/api/v1/sync/push',
      {
        bodyLimit: COMMIT_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Push changes = POST /api/v1/spaces/:id/commit on ?space (default: your default space)',
          querystring: Type.Object({ space: SpaceQuery }, { additionalProperties: false }),
          body: CommitBody,
          response: { 200: CommitReply, ...errors(400, 401, 403, 404, 413) },
        },
      },
      async (request) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, request.query.space, 'write');
        return d.commits.commit(
          space,
          { userId: me.userId, deviceId: me.deviceId },
          request.body.changes.map((c) => ({ ...c, baseVersionId: c.baseVersionId ?? null })),
        );
      },
    );

    app.get(
      '/api/v1/sync/pull',
      {
        schema: {
          tags,
          summary: 'Pull changes = GET /api/v1/spaces/:id/changes on ?space',
          querystring: Type.Composite([ChangesQuery, Type.Object({ space: SpaceQuery })], {
            additionalProperties: false,
          }),
          response: { 200: ChangesReply, ...errors(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, request.query.space, 'read');
        const q = request.query;
        return d.feed.changes(space.id, {
          since: q.since ?? 0,
          limit: q.limit,
          waitMs: (q.wait ?? 0) * 1000,
          deviceId: me.deviceId,
          signal: clientGone(reply),
        });
      },
    );

    app.get(
      '/api/v1/sync/delta',
      {
        schema: {
          tags,
          summary:
            "A file's current chunk list as a delta against its version ?baseVersion (application/x-ferry-manifest)",
          querystring: Type.Object(
            { fileId: Id, baseVersion: Type.Optional(Type.Integer({ minimum: 1 })), space: SpaceQuery },
            { additionalProperties: false },
          ),
          response: { 200: BINARY, ...errors(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const space = await d.spaces.resolve(caller(request), request.query.space, 'read');
        const m = await d.manifests.forFile(space.id, request.query.fileId, request.query.baseVersion);
        void reply.header('x-ferry-manifest-id', m.id);
        void reply.header('x-ferry-manifest-size', String(m.size));
        if (m.base) void reply.header('x-ferry-manifest-base', m.base);
        return reply
          .type(MANIFEST_CONTENT_TYPE)
          .send(Buffer.from(m.delta.buffer, m.delta.byteOffset, m.delta.byteLength));
      },
    );
  };
}
