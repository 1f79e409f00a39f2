// Routes: list, search, info, mkdir, move/rename, delete to trash, versions, restore, trash, conflicts.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { caller } from '../http/auth-hook.ts';
import { FileInfo, SpaceQuery, Strict, VersionInfo, errors, fileInfo, versionInfo } from '../http/schemas.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { FilesService } from './files-service.ts';

const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });
const InSpace = Type.Object({ space: SpaceQuery }, { additionalProperties: false });
const FileRef = Type.Ref(FileInfo);
const Entries = Type.Object({ entries: Type.Array(FileRef) });

export function filesRoutes({
  files,
  spaces,
}: {
  files: FilesService;
  spaces: SpacesService;
}): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const actor = (r: { auth: { userId: string; deviceId: string } | null }) => ({
      userId: r.auth!.userId,
      deviceId: r.auth!.deviceId,
    });

    app.get(
      '/api/v1/files/list',
      {
        schema: {
          tags: ['files'],
          summary: 'List a folder (or everything below it with recursive=true), paged by cursor',
          querystring: Type.Object(
            {
              path: Type.Optional(Type.String({ maxLength: 4096, default: '/' })),
              recursive: Type.Optional(Type.Boolean()),
              limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5000 })),
              cursor: Type.Optional(Type.String({ maxLength: 8192 })),
              space: SpaceQuery,
            },
            { additionalProperties: false },
          ),
          response: {
            200: Type.Object({
              entries: Type.Array(FileRef),
              cursor: Type.Union([Type.String(), Type.Null()]),
            }),
            ...errors(400, 401, 404, 409),
          },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        const page = await files.list(space.id, request.query.path ?? '/', request.query);
        return { entries: page.entries.map(fileInfo), cursor: page.cursor };
      },
    );

    app.get(
      '/api/v1/files/search',
      {
        schema: {
          tags: ['files'],
          summary: 'Find files and folders by name',
          querystring: Type.Object(
            { q: Type.String({ minLength: 1, maxLength: 255 }), space: SpaceQuery },
            { additionalProperties: false },
          ),
          response: { 200: Entries, ...errors(400, 401, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        return { entries: (await files.search(space.id, request.query.q)).map(fileInfo) };
      },
    );

    app.get(
      '/api/v1/files/:id/info',
      {
        schema: {
          tags: ['files'],
          summary: 'A file or folder (also when it is in the trash)',
          params: Id,
          querystring: InSpace,
          response: { 200: FileRef, ...errors(401, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        return fileInfo(await files.get(space.id, request.params.id));
      },
    );

    app.post(
      '/api/v1/files/mkdir',
      {
        schema: {
          tags: ['files'],
          summary: 'Create a folder (and its parents)',
          querystring: InSpace,
          body: Strict({ path: Type.String({ maxLength: 4096 }) }),
          response: { 200: FileRef, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return fileInfo(await files.mkdir(space.id, request.body.path, actor(request)));
      },
    );

    app.post(
      '/api/v1/files/:id/move',
      {
        schema: {
          tags: ['files'],
          summary: 'Rename or move a file or folder',
          params: Id,
          querystring: InSpace,
          body: Strict({ path: Type.String({ maxLength: 4096 }) }),
          response: { 200: FileRef, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return fileInfo(await files.move(space.id, request.params.id, request.body.path, actor(request)));
      },
    );

    app.delete(
      '/api/v1/files/:id',
      {
        schema: {
          tags: ['files'],
          summary: 'Move a file or folder to the trash',
          params: Id,
          querystring: InSpace,
          response: { 200: FileRef, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return fileInfo(await files.remove(space.id, request.params.id, actor(request)));
      },
    );

    app.get(
      '/api/v1/files/:id/versions',
      {
        schema: {
          tags: ['files'],
          summary: 'Version history, newest first',
          params: Id,
          querystring: InSpace,
          response: {
            200: Type.Object({ versions: Type.Array(Type.Ref(VersionInfo)) }),
            ...errors(401, 404),
          },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        return { versions: (await files.versions(space.id, request.params.id)).map(versionInfo) };
      },
    );

    app.post(
      '/api/v1/files/:id/restore',
      {
        schema: {
          tags: ['files'],
          summary: 'Make an older version current (as a new version)',
          params: Id,
          querystring: InSpace,
          body: Strict({ version: Type.Integer({ minimum: 1 }) }),
          response: { 200: FileRef, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return fileInfo(
          await files.restoreVersion(space.id, request.params.id, request.body.version, actor(request)),
        );
      },
    );

    app.get(
      '/api/v1/trash',
      {
        schema: {
          tags: ['trash'],
          summary: 'Deleted files and folders',
          querystring: InSpace,
          response: { 200: Entries, ...errors(401, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        return { entries: (await files.trash(space.id)).map(fileInfo) };
      },
    );

    app.post(
      '/api/v1/trash/:id/restore',
      {
        schema: {
          tags: ['trash'],
          summary: 'Restore from the trash (renamed if the path is taken)',
          params: Id,
          querystring: InSpace,
          response: { 200: FileRef, ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return fileInfo(await files.restoreFromTrash(space.id, request.params.id, actor(request)));
      },
    );

    app.delete(
      '/api/v1/trash',
      {
        schema: {
          tags: ['trash'],
          summary: 'Empty the trash',
          querystring: InSpace,
          response: { 200: Type.Object({ removed: Type.Integer() }), ...errors(401, 403, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'write');
        return { removed: await files.emptyTrash(space.id) };
      },
    );

    app.get(
      '/api/v1/conflicts',
      {
        schema: {
          tags: ['files'],
          summary: 'Conflict copies in a space',
          querystring: InSpace,
          response: { 200: Entries, ...errors(401, 404) },
        },
      },
      async (request) => {
        const space = await spaces.resolve(caller(request), request.query.space, 'read');
        return { entries: (await files.conflicts(space.id)).map(fileInfo) };
      },
    );
  };
}
