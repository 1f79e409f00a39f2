// Shared TypeBox schemas: the response shapes several route files use, and small helpers.

import { Type, type TSchema } from '@sinclair/typebox';
import { baseName } from '@ferry/core/paths';
import type { FileEntry, Version } from '../store/meta/types.ts';

export const ErrorBody = Type.Object(
  {
    error: Type.Object({
      code: Type.String(),
      message: Type.String(),
      details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
    }),
  },
  { $id: 'ErrorBody', description: 'Every 4xx/5xx answer' },
);

/** Object schema that refuses unknown fields. */
export const Strict = <T extends Record<string, TSchema>>(props: T, opts: Record<string, unknown> = {}) =>
  Type.Object(props, { additionalProperties: false, ...opts });

export const SpaceQuery = Type.Optional(
  Type.String({ description: 'Space id or name; default: your default space', maxLength: 200 }),
);

export const FileInfo = Type.Object(
  {
    id: Type.String(),
    spaceId: Type.String(),
    path: Type.String(),
    name: Type.String(),
    kind: Type.Union([Type.Literal('file'), Type.Literal('dir')]),
    size: Type.Integer(),
    contentHash: Type.Union([Type.String(), Type.Null()], {
      description: 'SHA-256 (hex) of the content; null for folders',
    }),
    version: Type.Integer(),
    mtime: Type.Integer({ description: 'Modification time, ms since the epoch' }),
    deleted: Type.Boolean(),
    deletedAt: Type.Union([Type.Integer(), Type.Null()]),
  },
  { $id: 'FileInfo' },
);

export const VersionInfo = Type.Object(
  {
    version: Type.Integer(),
    path: Type.String(),
    size: Type.Integer(),
    contentHash: Type.Union([Type.String(), Type.Null()]),
    mtime: Type.Integer(),
    deviceId: Type.Union([Type.String(), Type.Null()]),
    createdAt: Type.Integer(),
    deleted: Type.Boolean(),
  },
  { $id: 'VersionInfo' },
);

export function fileInfo(e: FileEntry) {
  return {
    id: e.id,
    spaceId: e.spaceId,
    path: e.path,
    name: baseName(e.path),
    kind: e.kind,
    size: e.size,
    contentHash: e.contentHash,
    version: e.version,
    mtime: e.mtime,
    deleted: e.deleted,
    deletedAt: e.deletedAt,
  };
}

export function versionInfo(v: Version) {
  return {
    version: v.version,
    path: v.path,
    size: v.size,
    contentHash: v.contentHash,
    mtime: v.mtime,
    deviceId: v.deviceId,
    createdAt: v.createdAt,
    deleted: v.deleted,
  };
}

/** Standard error responses for the OpenAPI document. */
export const errors = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, Type.Ref(ErrorBody)]));
