// Helpers for the sync protocol's integration tests: chunk data, frame it, upload, commit, log in
// a second device. Test-only (imported by *.int.test.ts).

import { createHash, randomUUID } from 'node:crypto';
import { zstdCompressSync } from 'node:zlib';
import { chunkBuffer } from '@ferry/core/fastcdc';
import type { TestServer } from '../testing/test-server.ts';
import { FLAG_ZSTD, frameHeader, readFrames } from './chunk-frames.ts';
import type { ChangeItem } from './change-feed.ts';

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

export interface Piece {
  hash: string;
  size: number;
  data: Uint8Array;
}

export function piecesOf(data: Uint8Array): Piece[] {
  return chunkBuffer(data).map((c) => ({ hash: sha256(c), size: c.length, data: c }));
}

export function frameBody(pieces: { hash: string; data: Uint8Array }[], { zstd = false } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const p of pieces) {
    const payload = zstd ? zstdCompressSync(p.data) : Buffer.from(p.data);
    parts.push(frameHeader(p.hash, zstd ? FLAG_ZSTD : 0, payload.length), payload);
  }
  return Buffer.concat(parts);
}

export async function parseFrames(
  body: Uint8Array,
): Promise<{ hash: string; flags: number; payload: Uint8Array }[]> {
  const out = [];
  async function* once() {
    yield body;
  }
  for await (const f of readFrames(once())) out.push(f);
  return out;
}

export async function uploadChunks(
  t: TestServer,
  token: string,
  pieces: { hash: string; data: Uint8Array }[],
  o: { zstd?: boolean } = {},
): Promise<Response> {
  return t.request('/api/v1/chunks', {
    method: 'POST',
    token,
    headers: { 'content-type': 'application/x-ferry-chunks' },
    body: new Uint8Array(frameBody(pieces, o)),
  });
}

export interface Result {
  opId: string;
  status: string;
  fileId: string;
  versionId: string;
  version: number;
  seq: number;
  path: string;
  conflictPath?: string;
  conflictFileId?: string;
  reason?: string;
  error?: { code: string };
}

export async function commit(
  t: TestServer,
  token: string,
  space: string,
  changes: Record<string, unknown>[],
): Promise<{
  status: number;
  body: { results: Result[]; headSeq: number; error?: { code: string; details?: Record<string, unknown> } };
}> {
  const res = await t.request(`/api/v1/spaces/${encodeURIComponent(space)}/commit`, {
    method: 'POST',
    token,
    json: { changes },
  });
  return { status: res.status, body: (await res.json()) as never };
}

/** Uploads the content's chunks and returns the content fields of a commit change. */
export async function content(
  t: TestServer,
  token: string,
  data: Uint8Array,
): Promise<{ size: number; contentHash: string; chunks: { hash: string; size: number }[] }> {
  const pieces = piecesOf(data);
  const res = await uploadChunks(t, token, pieces);
  if (res.status !== 200) throw new Error(`chunk upload failed: ${res.status} ${await res.text()}`);
  return {
    size: data.length,
    contentHash: sha256(data),
    chunks: pieces.map(({ hash, size }) => ({ hash, size })),
  };
}

export const op = () => randomUUID();
export const text = (s: string) => new TextEncoder().encode(s);

/** Logs an existing user in as another device. */
export async function loginDevice(
  t: TestServer,
  username: string,
  password: string,
  name: string,
): Promise<{ token: string; deviceId: string }> {
  const res = await t.request('/api/v1/auth/login', {
    method: 'POST',
    json: { username, password, device: { name, kind: 'desktop' } },
  });
  const s = (await res.json()) as { accessToken: string; deviceId: string };
  return { token: s.accessToken, deviceId: s.deviceId };
}

export async function changes(
  t: TestServer,
  token: string,
  space: string,
  query = '',
): Promise<{
  changes: ChangeItem[];
  headSeq: number;
  hasMore: boolean;
  cursor: number;
  resync?: boolean;
}> {
  const res = await t.request(`/api/v1/spaces/${encodeURIComponent(space)}/changes${query}`, { token });
  if (res.status !== 200) throw new Error(`changes: ${res.status} ${await res.text()}`);
  return (await res.json()) as never;
}
