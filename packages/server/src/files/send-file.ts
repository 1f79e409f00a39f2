// Streams a file's content as an HTTP response: ETag (the content hash), conditional GET, a single
// byte Range, Content-Disposition. Shared by downloads, share links and the watch API.

import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { FerryError } from '@ferry/core/errors';
import { baseName } from '@ferry/core/paths';
import type { FileEntry } from '../store/meta/types.ts';
import type { ContentService } from '../content/content-service.ts';
import { contentDisposition, contentTypeOf } from './content-type.ts';

function parseRange(header: string, size: number): { start: number; end: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === ''))
    throw new FerryError('RANGE_NOT_SATISFIABLE', 'only a single bytes=START-END range is supported', {
      size,
    });
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size)
    throw new FerryError('RANGE_NOT_SATISFIABLE', `range is outside the file (size ${size})`, { size });
  return { start, end };
}

export async function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  entry: FileEntry,
  content: ContentService,
  o: { inline?: boolean } = {},
): Promise<FastifyReply> {
  if (entry.kind !== 'file' || !entry.manifestId)
    throw new FerryError('IS_A_DIRECTORY', `${entry.path} is a folder`);
  const etag = `"${entry.contentHash}"`;
  const name = baseName(entry.path);
  void reply
    .header('etag', etag)
    .header('accept-ranges', 'bytes')
    .header('last-modified', new Date(entry.mtime).toUTCString())
    .header('content-type', contentTypeOf(name))
    .header('content-disposition', contentDisposition(name, o.inline))
    .header('x-content-sha256', entry.contentHash ?? '');
  if (request.headers['if-none-match'] === etag) return reply.status(304).send();
  const manifest = await content.manifest(entry.manifestId);
  let start = 0;
  let end = entry.size - 1;
  const range = request.headers.range;
  if (range && entry.size > 0 && (!request.headers['if-range'] || request.headers['if-range'] === etag)) {
    ({ start, end } = parseRange(range, entry.size));
    void reply.status(206).header('content-range', `bytes ${start}-${end}/${entry.size}`);
  }
  void reply.header('content-length', String(Math.max(0, end - start + 1)));
  if (request.method === 'HEAD' || entry.size === 0) return reply.send('');
  return reply.send(Readable.from(content.read(manifest, start, end), { objectMode: false }));
}
