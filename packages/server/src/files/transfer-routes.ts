// Routes: upload (raw body or multipart, streamed) and download (streamed, Range, ETag).
// Registered in their own plugin scope so any content type reaches upload as a raw stream.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import { FerryError } from '@ferry/core/errors';
import { caller } from '../http/auth-hook.ts';
import { FileInfo, SpaceQuery, errors, fileInfo } from '../http/schemas.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { ContentService } from '../content/content-service.ts';
import type { FilesService } from './files-service.ts';
import { sendFile } from './send-file.ts';

export interface TransferDeps {
  files: FilesService;
  spaces: SpacesService;
  content: ContentService;
  maxUploadBytes: number;
}

async function multipartUpload(
  request: FastifyRequest,
): Promise<{ path: string | undefined; stream: AsyncIterable<Uint8Array> }> {
  // The `path` field may come before or after the file part; only one file per request.
  let path: string | undefined;
  for await (const part of request.parts()) {
    if (part.type === 'field') {
      if (part.fieldname === 'path') path = String(part.value);
      continue;
    }
    if (part.fieldname !== 'file') {
      part.file.resume();
      continue;
    }
    return { path: path ?? (request.query as { path?: string }).path, stream: part.file };
  }
  throw new FerryError('BAD_REQUEST', 'multipart upload needs a "file" part');
}

export function transferRoutes(d: TransferDeps): FastifyPluginAsync {
  return async (fastify) => {
    fastify.removeAllContentTypeParsers();
    fastify.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    await fastify.register(multipart, {
      limits: { fileSize: d.maxUploadBytes, files: 1, fields: 10, fieldSize: 8192 },
    });
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/files/upload',
      {
        bodyLimit: d.maxUploadBytes,
        schema: {
          tags: ['files'],
          summary: 'Upload a file: raw body, or multipart/form-data with a "file" part and a "path" field',
          description:
            'Parent folders are created. Every upload makes a new version. The body is streamed and chunked; identical chunks are stored once.',
          querystring: Type.Object(
            {
              path: Type.Optional(
                Type.String({ maxLength: 4096, description: 'Destination, e.g. /photos/cat.jpg' }),
              ),
              space: SpaceQuery,
              mtime: Type.Optional(
                Type.Integer({ minimum: 0, description: 'Modification time, ms since the epoch' }),
              ),
              sha256: Type.Optional(
                Type.String({
                  pattern: '^[0-9a-f]{64}$',
                  description: 'Expected SHA-256 of the content; a mismatch stores nothing (HASH_MISMATCH)',
                }),
              ),
            },
            { additionalProperties: false },
          ),
          response: { 200: Type.Ref(FileInfo), ...errors(400, 401, 403, 404, 409, 413) },
        },
      },
      async (request) => {
        const me = caller(request);
        const space = await d.spaces.resolve(me, request.query.space, 'write');
        const isMultipart = request.isMultipart();
        const { path, stream } = isMultipart
          ? await multipartUpload(request)
          : // Keep the socket when ingest stops early (a refused upload): the error answer must reach the client.
            {
              path: request.query.path,
              // Fastify runs no parser for an empty body without a content type: no body at all.
              stream:
                (request.body as Readable | undefined)?.iterator({ destroyOnReturn: false }) ?? noBytes(),
            };
        const length = Number(request.headers['content-length']);
        const entry = await d.files.upload(space, path, stream, {
          actor: { userId: me.userId, deviceId: me.deviceId },
          mtime: request.query.mtime,
          expectedHash: request.query.sha256,
          declaredSize: !isMultipart && Number.isFinite(length) ? length : undefined,
        });
        return fileInfo(entry);
      },
    );

    app.get(
      '/api/v1/files/download',
      {
        schema: {
          tags: ['files'],
          summary: 'Download a file by path or id (streamed; Range and If-None-Match supported)',
          description:
            'HEAD answers the headers only. ETag and x-content-sha256 carry the content hash, x-ferry-version-id the id of the current version (the baseVersionId for a sync commit on top of it).',
          querystring: Type.Object(
            {
              path: Type.Optional(Type.String({ maxLength: 4096 })),
              id: Type.Optional(Type.String({ maxLength: 64 })),
              space: SpaceQuery,
              inline: Type.Optional(Type.Boolean()),
            },
            { additionalProperties: false },
          ),
          response: {
            200: { type: 'string', format: 'binary' },
            206: { type: 'string', format: 'binary' },
            ...errors(400, 401, 404, 409, 416),
          },
        },
      },
      async (request, reply) => {
        const space = await d.spaces.resolve(caller(request), request.query.space, 'read');
        if (!request.query.id && !request.query.path)
          throw new FerryError('BAD_REQUEST', 'give a path or an id');
        const entry = await d.files.getLive(space.id, { id: request.query.id, path: request.query.path });
        // The head version, so a client (the web app's chunked upload) can commit on top of it.
        void reply.header('x-ferry-version-id', entry.versionId);
        return sendFile(request, reply, entry, d.content, { inline: request.query.inline });
      },
    );
  };
}

async function* noBytes(): AsyncGenerator<Uint8Array> {}
