// Routes for watches: a small paged listing, downloads and uploads of at most 100 KB. The token may
// come as `?token=` because watch HTTP stacks cannot always set headers. Own plugin scope: any
// content type reaches upload as raw bytes, capped at 100 KB by Fastify's body limit.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { baseName } from '@ferry/core/paths';
import { caller } from '../http/auth-hook.ts';
import { errors } from '../http/schemas.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { ContentService } from '../content/content-service.ts';
import { sendFile } from '../files/send-file.ts';
import { GARMIN_MAX_BYTES, GARMIN_TYPES, type GarminService } from './garmin-service.ts';

const Token = Type.Optional(
  Type.String({
    maxLength: 4096,
    description: 'Access token, for clients that cannot send an Authorization header',
  }),
);
const WatchFile = Type.Object({
  id: Type.String(),
  name: Type.String(),
  path: Type.String(),
  size: Type.Integer(),
  mtime: Type.Integer(),
});

export function garminRoutes(d: {
  garmin: GarminService;
  spaces: SpacesService;
  content: ContentService;
}): FastifyPluginAsync {
  return async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: GARMIN_MAX_BYTES },
      (_request, body, done) => done(null, body),
    );
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.get(
      '/api/v1/garmin/files',
      {
        schema: {
          tags: ['garmin'],
          summary: `Files a watch may take (${GARMIN_TYPES.join(', ')}, at most 100 KB) in your default space, paged`,
          querystring: Type.Object(
            {
              path: Type.Optional(
                Type.String({ maxLength: 4096, default: '/', description: 'Folder to list (recursively)' }),
              ),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 50, default: 20 })),
              cursor: Type.Optional(Type.String({ maxLength: 8192 })),
              token: Token,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              files: Type.Array(WatchFile),
              cursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errors(400, 401, 404, 409),
          },
        },
      },
      async (request) => {
        const space = await d.spaces.resolve(caller(request), undefined, 'read');
        const page = await d.garmin.list(space.id, request.query.path ?? '/', {
          limit: request.query.limit ?? 20,
          cursor: request.query.cursor,
        });
        return {
          files: page.files.map((e) => ({
            id: e.id,
            name: baseName(e.path),
            path: e.path,
            size: e.size,
            mtime: e.mtime,
          })),
          cursor: page.cursor,
        };
      },
    );

    app.get(
      '/api/v1/garmin/download/:id',
      {
        schema: {
          tags: ['garmin'],
          summary: 'Download a watch file (refused over 100 KB)',
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          querystring: Type.Object({ token: Token }, { additionalProperties: false }),
          response: {
            200: { type: 'string', format: 'binary' },
            206: { type: 'string', format: 'binary' },
            ...errors(401, 404, 409, 413, 415),
          },
        },
      },
      async (request, reply) => {
        const space = await d.spaces.resolve(caller(request), undefined, 'read');
        return sendFile(request, reply, await d.garmin.downloadable(space.id, request.params.id), d.content);
      },
    );

    app.post(
      '/api/v1/garmin/upload',
      {
        bodyLimit: GARMIN_MAX_BYTES,
        schema: {
          tags: ['garmin'],
          summary: `Upload an activity (${GARMIN_TYPES.join(', ')}, at most 100 KB) into the watch folder of your default space`,
          description:
            'The body is the file itself, whatever its content type. An existing name gets a new version.',
          querystring: Type.Object(
            {
              name: Type.String({
                minLength: 1,
                maxLength: 255,
                description: 'File name, e.g. 2025-06-01-run.fit',
              }),
              token: Token,
            },
            { additionalProperties: false },
          ),
          response: { 201: WatchFile, ...errors(400, 401, 403, 404, 409, 413, 415) },
        },
      },
      async (request, reply) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, undefined, 'write');
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const e = await d.garmin.upload(space, request.query.name, body, {
          userId: me.userId,
          deviceId: me.deviceId,
        });
        return reply
          .status(201)
          .send({ id: e.id, name: baseName(e.path), path: e.path, size: e.size, mtime: e.mtime });
      },
    );
  };
}
