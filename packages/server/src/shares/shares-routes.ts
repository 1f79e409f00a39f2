// Routes: share links for signed-in users (create, list, revoke) and the public endpoints that
// anyone with a token may call (metadata, download). Public routes never reveal whose file it is.

import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { caller } from '../http/auth-hook.ts';
import { Strict, SpaceQuery, errors } from '../http/schemas.ts';
import type { ContentService } from '../content/content-service.ts';
import type { FilesService } from '../files/files-service.ts';
import { sendFile } from '../files/send-file.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { SqlDriver } from '../store/meta/sql-driver.ts';
import { SqlShareStore } from './share-store.ts';
import { SharesService } from './shares-service.ts';

const ShareBody = Type.Object({
  id: Type.String(),
  spaceId: Type.String(),
  path: Type.String(),
  kind: Type.Union([Type.Literal('file'), Type.Literal('dir')]),
  createdAt: Type.Integer(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  hasPassword: Type.Boolean(),
  maxDownloads: Type.Union([Type.Integer(), Type.Null()]),
  downloads: Type.Integer(),
});

const CreatedShare = Type.Composite([
  ShareBody,
  Type.Object({ token: Type.String({ description: 'The secret; shown only here' }), url: Type.String() }),
]);

const PublicShare = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('file'), Type.Literal('dir')]),
  size: Type.Integer(),
  mtime: Type.Integer(),
  expiresAt: Type.Union([Type.Integer(), Type.Null()]),
  downloadsLeft: Type.Union([Type.Integer(), Type.Null()]),
  entries: Type.Optional(
    Type.Array(
      Type.Object({
        path: Type.String(),
        size: Type.Integer(),
        kind: Type.Union([Type.Literal('file'), Type.Literal('dir')]),
      }),
    ),
  ),
});

const TokenParams = Type.Object({
  token: Type.String({ minLength: 16, maxLength: 128, pattern: '^[A-Za-z0-9_-]+$' }),
});

export interface SharesRoutesDeps {
  meta: MetaStore;
  files: FilesService;
  spaces: SpacesService;
  content: ContentService;
  /** Built from `meta` when not given. */
  shares?: SharesService;
}

/** The SQL driver behind the MetaStore: shares keep their own table, as later features do. */
function driverOf(meta: MetaStore): SqlDriver {
  const driver = (meta as MetaStore & { driver?: SqlDriver }).driver;
  if (!driver) throw new Error('share links need a SQL MetaStore');
  return driver;
}

function sharePassword(request: FastifyRequest): string | undefined {
  const h = request.headers['x-share-password'];
  if (typeof h === 'string' && h) return h;
  const q = (request.query as { password?: string } | undefined)?.password;
  return q || undefined;
}

function publicOrigin(request: FastifyRequest): string {
  return `${request.protocol}://${request.host}`;
}

export function sharesRoutes(d: SharesRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const shares =
      d.shares ??
      new SharesService({ store: new SqlShareStore(driverOf(d.meta)), files: d.files, spaces: d.spaces });
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

    app.post(
      '/api/v1/shares',
      {
        schema: {
          tags: ['shares'],
          summary: 'Create a share link for a file or folder',
          description:
            'Needs write access to the space. The token (≥128 bits) is returned only here and stored hashed.',
          body: Strict({
            path: Type.String({ minLength: 1, maxLength: 4096 }),
            space: SpaceQuery,
            expiresAt: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch' })),
            password: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
            maxDownloads: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
          }),
          response: { 201: CreatedShare, ...errors(400, 401, 403, 404) },
        },
      },
      async (request, reply) => {
        const { share, token } = await shares.create(caller(request), request.body);
        return reply.status(201).send({ ...share, token, url: `${publicOrigin(request)}/s/${token}` });
      },
    );

    app.get(
      '/api/v1/shares',
      {
        schema: {
          tags: ['shares'],
          summary: 'Your share links',
          response: { 200: Type.Object({ shares: Type.Array(ShareBody) }), ...errors(401) },
        },
      },
      async (request) => ({ shares: await shares.list(caller(request)) }),
    );

    app.delete(
      '/api/v1/shares/:id',
      {
        schema: {
          tags: ['shares'],
          summary: 'Revoke a share link',
          params: Type.Object({ id: Type.String({ maxLength: 64 }) }),
          response: { 204: Type.Null(), ...errors(401, 404) },
        },
      },
      async (request, reply) => {
        await shares.revoke(caller(request), request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.get(
      '/api/v1/public/shares/:token',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['shares'],
          summary: 'What a share link points at (no account needed)',
          description:
            'Errors: PASSWORD_REQUIRED / WRONG_PASSWORD (401), SHARE_EXPIRED / DOWNLOAD_LIMIT_REACHED (410), NOT_FOUND for unknown or revoked links.',
          security: [],
          params: TokenParams,
          querystring: Type.Object(
            { password: Type.Optional(Type.String({ maxLength: 256 })) },
            { additionalProperties: false },
          ),
          response: { 200: PublicShare, ...errors(400, 401, 404, 410, 429) },
        },
      },
      async (request, reply) => {
        void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        return shares.describe(request.params.token, sharePassword(request));
      },
    );

    app.get(
      '/api/v1/public/shares/:token/download',
      {
        config: { auth: 'public' },
        schema: {
          tags: ['shares'],
          summary: 'Download through a share link (no account needed)',
          description:
            'Password in X-Share-Password or ?password=. Each download counts against maxDownloads; Range continuations do not.',
          security: [],
          params: TokenParams,
          querystring: Type.Object(
            {
              password: Type.Optional(Type.String({ maxLength: 256 })),
              path: Type.Optional(
                Type.String({ maxLength: 4096, description: 'A file inside a shared folder' }),
              ),
            },
            { additionalProperties: false },
          ),
          response: {
            200: { type: 'string', format: 'binary' },
            206: { type: 'string', format: 'binary' },
            ...errors(400, 401, 404, 409, 410, 416, 429),
          },
        },
      },
      async (request, reply) => {
        const range = request.headers.range;
        const continuation = typeof range === 'string' && !/^bytes=0-/.test(range.trim());
        const entry = await shares.download(
          request.params.token,
          sharePassword(request),
          request.query.path,
          !continuation,
        );
        void reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
        return sendFile(request, reply, entry, d.content);
      },
    );
  };
}
