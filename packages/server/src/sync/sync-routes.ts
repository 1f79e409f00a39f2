// Routes of the sync protocol: chunk negotiation, batched chunk upload and download, manifests,
// commit, change feed and snapshot. Parsing and authorization only; the logic is in the services.

import { Readable } from 'node:stream';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FerryError } from '@ferry/core/errors';
import { toBase64 } from '@ferry/core/manifest-delta';
import { caller } from '../http/auth-hook.ts';
import { errors } from '../http/schemas.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import { CHUNKS_CONTENT_TYPE } from './chunk-frames.ts';
import type { ChunkService } from './chunk-service.ts';
import type { CommitService } from './commit-service.ts';
import type { ChangeFeed } from './change-feed.ts';
import { MANIFEST_CONTENT_TYPE, type ManifestService } from './manifest-service.ts';
import {
  ChangesQuery,
  ChangesReply,
  CommitBody,
  CommitReply,
  GetChunksBody,
  Hash,
  ManifestsBody,
  ManifestsReply,
  MissingBody,
  MissingReply,
  SnapshotQuery,
  SnapshotReply,
  SpaceParams,
  UploadReply,
} from './sync-schemas.ts';

export interface SyncDeps {
  spaces: SpacesService;
  chunks: ChunkService;
  commits: CommitService;
  feed: ChangeFeed;
  manifests: ManifestService;
}

export const BINARY = Type.Unsafe<unknown>({ type: 'string', format: 'binary' });
export const COMMIT_BODY_LIMIT = 64 * 1024 * 1024;

/** Aborts when the client goes away before the answer, so a long-poll does not outlive it. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const ac = new AbortController();
  reply.raw.once('close', () => ac.abort());
  return ac.signal;
}

export function syncRoutes(d: SyncDeps): FastifyPluginAsync {
  return async (fastify) => {
    // The framed chunk body reaches the route as a stream; it is parsed frame by frame.
    fastify.addContentTypeParser(CHUNKS_CONTENT_TYPE, (_request, payload, done) => done(null, payload));
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const tags = ['sync'];

    app.post(
      '/api/v1/chunks/missing',
      {
        schema: {
          tags,
          summary: 'Which of these chunks must be uploaded',
          description:
            'A chunk counts as present only if you uploaded it or a space you can read references it.',
          body: MissingBody,
          response: { 200: MissingReply, ...errors(400, 401) },
        },
      },
      async (request) => ({ missing: await d.chunks.missing(caller(request).userId, request.body.hashes) }),
    );

    app.post(
      '/api/v1/chunks',
      {
        schema: {
          tags,
          summary: 'Upload many chunks in one body (application/x-ferry-chunks)',
          description:
            'Frames of [32-byte raw SHA-256][1-byte flags, bit 0 = zstd][4-byte big-endian length][payload], each ≤ 1 MiB. Every hash is verified; a bad frame answers HASH_MISMATCH and nothing of it is stored.',
          response: { 200: UploadReply, ...errors(400, 401, 413, 415) },
        },
      },
      async (request) => {
        const type = request.headers['content-type'] ?? '';
        if (!type.startsWith(CHUNKS_CONTENT_TYPE))
          throw new FerryError('UNSUPPORTED_MEDIA_TYPE', `send chunks as ${CHUNKS_CONTENT_TYPE}`);
        return d.chunks.upload(caller(request).userId, request.body as AsyncIterable<Uint8Array>);
      },
    );

    app.post(
      '/api/v1/chunks/get',
      {
        schema: {
          tags,
          summary: 'Download many chunks as application/x-ferry-chunks frames',
          description:
            'Frames in request order; zstd-compressed where it pays when compress is true. Any chunk you may not read makes the whole request 404.',
          body: GetChunksBody,
          response: { 200: BINARY, ...errors(400, 401, 404) },
        },
      },
      async (request, reply) => {
        await d.chunks.assertReadable(caller(request).userId, request.body.hashes);
        return reply
          .type(CHUNKS_CONTENT_TYPE)
          .send(Readable.from(d.chunks.frames(request.body.hashes, { compress: request.body.compress })));
      },
    );

    app.get(
      '/api/v1/spaces/:id/manifests/:manifestId',
      {
        schema: {
          tags,
          summary: "A file's chunk list (application/x-ferry-manifest), as a delta against ?base when given",
          params: Type.Object({ id: SpaceParams.properties.id, manifestId: Hash }),
          querystring: Type.Object({ base: Type.Optional(Hash) }, { additionalProperties: false }),
          response: { 200: BINARY, ...errors(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const space = await d.spaces.resolve(caller(request), request.params.id, 'read');
        const m = await d.manifests.encode(space.id, request.params.manifestId, request.query.base);
        void reply.header('x-ferry-manifest-size', String(m.size));
        if (m.base) void reply.header('x-ferry-manifest-base', m.base);
        return reply
          .type(MANIFEST_CONTENT_TYPE)
          .send(Buffer.from(m.delta.buffer, m.delta.byteOffset, m.delta.byteLength));
      },
    );

    app.post(
      '/api/v1/spaces/:id/manifests/get',
      {
        schema: {
          tags,
          summary: 'Many chunk lists at once, each as a base64 delta (against its base when given)',
          params: SpaceParams,
          body: ManifestsBody,
          response: { 200: ManifestsReply, ...errors(400, 401, 404) },
        },
      },
      async (request) => {
        const space = await d.spaces.resolve(caller(request), request.params.id, 'read');
        const manifests = [];
        for (const item of request.body.items) {
          const m = await d.manifests.encode(space.id, item.id, item.base);
          manifests.push({ id: m.id, size: m.size, base: m.base, delta: toBase64(m.delta) });
        }
        return { manifests };
      },
    );

    app.post(
      '/api/v1/spaces/:id/commit',
      {
        bodyLimit: COMMIT_BODY_LIMIT,
        schema: {
          tags,
          summary:
            'Commit a batch of changes in one transaction (idempotent by opId; conflicts resolved server-side)',
          description: 'See docs/sync-protocol.md for the conflict rule. Needs role editor or owner.',
          params: SpaceParams,
          body: CommitBody,
          response: { 200: CommitReply, ...errors(400, 401, 403, 404, 413) },
        },
      },
      async (request) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, request.params.id, 'write');
        return d.commits.commit(
          space,
          { userId: me.userId, deviceId: me.deviceId },
          request.body.changes.map((c) => ({ ...c, baseVersionId: c.baseVersionId ?? null })),
          { echo: request.body.echo === true },
        );
      },
    );

    app.get(
      '/api/v1/spaces/:id/changes',
      {
        schema: {
          tags,
          summary: 'Change feed: versions after ?since in seq order; long-poll with ?wait=seconds',
          params: SpaceParams,
          querystring: ChangesQuery,
          response: { 200: ChangesReply, ...errors(400, 401, 404) },
        },
      },
      async (request, reply) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, request.params.id, 'read');
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
      '/api/v1/spaces/:id/snapshot',
      {
        schema: {
          tags,
          summary: 'The live tree, ordered by path, paged: the start of a first sync or a resync',
          params: SpaceParams,
          querystring: SnapshotQuery,
          response: { 200: SnapshotReply, ...errors(400, 401, 404) },
        },
      },
      async (request) => {
        const space = await d.spaces.resolve(caller(request), request.params.id, 'read');
        return d.feed.snapshot(space.id, request.query);
      },
    );
  };
}
