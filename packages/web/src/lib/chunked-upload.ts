// Resumable upload of a large file over the sync protocol (docs/sync-protocol.md), the way a device
// pushes: ask which of the file's chunks the server lacks, send only those in framed batches, then
// commit the file with its chunk list. Whatever reached the server before a dropped connection or
// a reload is never sent again: the next attempt's /chunks/missing no longer lists it.

import { encodeFrames, FerryApiError, type CommitResult, type FerryClient } from '@ferry/client/api/index';
import type { BlobChunk, HashedBlob } from './blob-hasher.ts';

/**
 * Bytes of the file per request body: an eighth of the file, so the progress bar moves in steps
 * and a dropped connection loses little, within limits that keep requests few and bodies small.
 */
const batchBytesFor = (size: number) => Math.min(4 << 20, Math.max(256 << 10, Math.ceil(size / 8)));
const IN_FLIGHT = 2;
const MISSING_BATCH = 10_000;

export interface ChunkedUploadJob {
  file: Blob;
  path: string;
  /** Space id or name; the user's default space when absent. */
  space?: string;
  mtime: number;
  /** Idempotency key of the commit, kept across attempts and reloads. */
  opId: string;
  hashed: HashedBlob;
  /** Bytes of the file the server has confirmed (present before, or sent now). */
  onProgress?: (confirmed: number) => void;
  signal?: AbortSignal;
}

let defaultSpace: { userId: string; id: Promise<string> } | null = null;

function resolveSpace(client: FerryClient, space: string | undefined): Promise<string> {
  if (space) return Promise.resolve(space);
  const userId = client.session?.user.id ?? '';
  if (defaultSpace?.userId !== userId) {
    const id = client.spaces.list().then((all) => {
      const s = all.find((x) => x.isDefault) ?? all[0];
      if (!s) throw new FerryApiError(404, 'NOT_FOUND', 'you have no space to upload to');
      return s.id;
    });
    id.catch(() => (defaultSpace = null));
    defaultSpace = { userId, id };
  }
  return defaultSpace.id;
}

/** Groups the chunks to send into request bodies of about `limit` bytes, each one Blob slice. */
function batchesOf(chunks: BlobChunk[], limit: number): BlobChunk[][] {
  const out: BlobChunk[][] = [];
  let batch: BlobChunk[] = [];
  for (const c of chunks) {
    if (batch.length > 0 && c.offset + c.size - batch[0].offset > limit) {
      out.push(batch);
      batch = [];
    }
    batch.push(c);
  }
  if (batch.length > 0) out.push(batch);
  return out;
}

async function sendBatch(client: FerryClient, file: Blob, batch: BlobChunk[], signal?: AbortSignal) {
  const start = batch[0].offset;
  const last = batch[batch.length - 1];
  const span = new Uint8Array(await file.slice(start, last.offset + last.size).arrayBuffer());
  // Browsers have no zstd encoder: frames go uncompressed (flags 0).
  const body = encodeFrames(
    batch.map((c) => ({
      hash: c.hash,
      flags: 0,
      payload: span.subarray(c.offset - start, c.offset - start + c.size),
    })),
  );
  await client.sync.uploadChunks(body, signal);
}

export async function uploadInChunks(client: FerryClient, job: ChunkedUploadJob): Promise<CommitResult> {
  const { hashed, signal } = job;
  const space = await resolveSpace(client, job.space);

  // 1. Which chunks the server lacks (for you: see the tenancy rule of /chunks/missing).
  const unique = [...new Set(hashed.chunks.map((c) => c.hash))];
  const missing = new Set<string>();
  for (let i = 0; i < unique.length; i += MISSING_BATCH)
    for (const h of await client.sync.missingChunks(unique.slice(i, i + MISSING_BATCH), signal))
      missing.add(h);

  // 2. Send each missing chunk once (a chunk repeated in the file counts for all its copies).
  const bytesOf = new Map<string, number>();
  for (const c of hashed.chunks) bytesOf.set(c.hash, (bytesOf.get(c.hash) ?? 0) + c.size);
  let confirmed = hashed.chunks.reduce((n, c) => n + (missing.has(c.hash) ? 0 : c.size), 0);
  job.onProgress?.(confirmed);
  const toSend: BlobChunk[] = [];
  const queued = new Set<string>();
  for (const c of hashed.chunks)
    if (missing.has(c.hash) && !queued.has(c.hash)) {
      queued.add(c.hash);
      toSend.push(c);
    }
  const batches = batchesOf(toSend, batchBytesFor(hashed.size));
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < batches.length && !failed) {
      const batch = batches[next++];
      try {
        await sendBatch(client, job.file, batch, signal);
      } catch (e) {
        failed = true; // the other worker stops too: the retry starts from /chunks/missing
        throw e;
      }
      for (const c of batch) confirmed += bytesOf.get(c.hash) ?? 0;
      job.onProgress?.(confirmed);
    }
  };
  await Promise.all(Array.from({ length: Math.min(IN_FLIGHT, batches.length) }, worker));

  // 3. Commit on top of the file's current version, as a new upload of the same path does: the
  // result is a new version. A change that lands between the look-up and the commit makes a
  // conflict copy, never a lost write.
  const head = await client.files.head(job.path, { space: job.space });
  const answer = await client.sync.commit(
    space,
    [
      {
        opId: job.opId,
        path: job.path,
        kind: 'file',
        baseVersionId: head?.versionId ?? null,
        size: hashed.size,
        mtime: Math.round(job.mtime),
        contentHash: hashed.contentHash,
        chunks: hashed.chunks.map((c) => ({ hash: c.hash, size: c.size })),
      },
    ],
    signal,
  );
  const r = answer.results[0];
  if (r.status === 'rejected')
    throw new FerryApiError(
      400,
      r.error?.code ?? 'REJECTED',
      r.error?.message ?? 'the server rejected the upload',
    );
  return r;
}
