// TypeBox schemas of the sync protocol's JSON bodies; they validate requests, serialise answers
// and produce the OpenAPI document. docs/sync-protocol.md describes the same shapes in prose.

import { Type } from '@sinclair/typebox';
import { Strict } from '../http/schemas.ts';
import { MAX_FRAME_BYTES } from './chunk-frames.ts';
import { MAX_CHANGES } from './commit-service.ts';
import { MAX_PAGE, MAX_WAIT_SECONDS } from './change-feed.ts';

const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

export const Hash = Type.String({ pattern: '^[0-9a-f]{64}$', description: 'SHA-256, lowercase hex' });
export const Id = Type.String({ minLength: 1, maxLength: 64 });
const Kind = Type.Union([Type.Literal('file'), Type.Literal('dir')]);

export const SpaceParams = Type.Object({
  id: Type.String({ maxLength: 200, description: 'Space id or name' }),
});

export const MissingBody = Strict({ hashes: Type.Array(Hash, { maxItems: 10_000 }) });
export const MissingReply = Type.Object({ missing: Type.Array(Hash) });
export const UploadReply = Type.Object({
  stored: Type.Integer({ description: 'Frames newly written to storage' }),
  received: Type.Integer({ description: 'Frames accepted (verified), including ones already stored' }),
});
export const GetChunksBody = Strict({
  hashes: Type.Array(Hash, { maxItems: 1000 }),
  compress: Type.Optional(Type.Boolean({ description: 'zstd-compress frames where it saves at least 1/16' })),
});

export const ChunkRefBody = Strict({
  hash: Hash,
  size: Type.Integer({ minimum: 0, maximum: MAX_FRAME_BYTES }),
});

export const ChangeBody = Strict({
  opId: Type.String({
    pattern: '^[A-Za-z0-9_-]{8,64}$',
    description: 'Idempotency key (a UUID), unique per change',
  }),
  fileId: Type.Optional(Id),
  path: Type.String({ maxLength: 4096 }),
  kind: Kind,
  baseVersionId: Type.Optional(Nullable(Id)),
  deleted: Type.Optional(Type.Boolean()),
  size: Type.Optional(Type.Integer({ minimum: 0 })),
  mtime: Type.Optional(Type.Integer({ minimum: 0, description: 'ms since the epoch' })),
  contentHash: Type.Optional(Hash),
  chunks: Type.Optional(Type.Array(ChunkRefBody, { maxItems: 4_000_000 })),
  chunksDelta: Type.Optional(
    Type.String({
      maxLength: 64 * 1024 * 1024,
      description: "base64 manifest delta against the base version's manifest",
    }),
  ),
  manifestId: Type.Optional(Hash),
});

export const CommitBody = Strict({
  changes: Type.Array(ChangeBody, { minItems: 1, maxItems: MAX_CHANGES }),
  echo: Type.Optional(
    Type.Boolean({
      description:
        'Answer with `changes`: the versions this commit wrote, as the change feed lists them (a device whose cursor is right before them applies them instead of pulling them back)',
    }),
  ),
});

export const CommitResultBody = Type.Object({
  opId: Type.String(),
  status: Type.Union([
    Type.Literal('ok'),
    Type.Literal('noop'),
    Type.Literal('conflict'),
    Type.Literal('rejected'),
  ]),
  fileId: Nullable(Type.String()),
  versionId: Nullable(Type.String()),
  version: Nullable(Type.Integer()),
  seq: Nullable(Type.Integer()),
  path: Type.String(),
  conflictPath: Type.Optional(Type.String()),
  conflictFileId: Type.Optional(Type.String()),
  reason: Type.Optional(Type.String()),
  error: Type.Optional(Type.Object({ code: Type.String(), message: Type.String() })),
});

export const ChangeItemBody = Type.Object({
  seq: Type.Integer(),
  fileId: Type.String(),
  versionId: Type.String(),
  version: Type.Integer(),
  path: Type.String(),
  prevPath: Nullable(Type.String()),
  kind: Kind,
  size: Type.Integer(),
  contentHash: Nullable(Type.String()),
  manifestId: Nullable(Type.String()),
  mtime: Type.Integer(),
  deviceId: Nullable(Type.String()),
  deleted: Type.Boolean(),
  opId: Nullable(Type.String()),
});

export const CommitReply = Type.Object({
  results: Type.Array(CommitResultBody),
  headSeq: Type.Integer(),
  changes: Type.Optional(Type.Array(ChangeItemBody)),
});

export const ChangesQuery = Type.Object(
  {
    since: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: MAX_PAGE })),
    wait: Type.Optional(
      Type.Number({
        minimum: 0,
        maximum: MAX_WAIT_SECONDS,
        default: 0,
        description: 'Long-poll: seconds to hold the request when nothing is newer',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ChangesReply = Type.Object({
  changes: Type.Array(ChangeItemBody),
  headSeq: Type.Integer(),
  hasMore: Type.Boolean(),
  cursor: Type.Integer({ description: 'The `since` of the next call' }),
  resync: Type.Optional(
    Type.Boolean({ description: 'The cursor is too old or ahead of the server: start again from /snapshot' }),
  ),
});

export const SnapshotQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
    cursor: Type.Optional(Type.String({ maxLength: 8192 })),
  },
  { additionalProperties: false },
);
export const SnapshotReply = Type.Object({
  entries: Type.Array(ChangeItemBody),
  headSeq: Type.Integer(),
  cursor: Nullable(Type.String()),
});

export const ManifestsBody = Strict({
  items: Type.Array(Strict({ id: Hash, base: Type.Optional(Nullable(Hash)) }), { maxItems: 1000 }),
});
export const ManifestsReply = Type.Object({
  manifests: Type.Array(
    Type.Object({
      id: Type.String(),
      size: Type.Integer(),
      base: Nullable(Type.String()),
      delta: Type.String({ description: 'base64 manifest delta' }),
    }),
  ),
});
