// The sync protocol v1 (docs/sync-protocol.md): chunk negotiation and transfer in framed batches,
// manifests, batched commits, the change feed and the realtime channel. Isomorphic: fetch,
// Uint8Array and the global WebSocket only; compression of frames is left to the caller.

import { concatBytes } from '@ferry/core/bytes';
import type { Transport } from './transport.ts';

export const CHUNK_FRAMES_TYPE = 'application/x-ferry-chunks';
/** Frame flag bit 0: the payload is zstd-compressed. */
export const FRAME_ZSTD = 1;
/** Bytes before each frame's payload: the hash, the flags, the payload length. */
export const FRAME_HEADER = 32 + 1 + 4;

export interface ChunkFrame {
  /** Lower-case hex SHA-256 of the uncompressed chunk. */
  hash: string;
  flags: number;
  payload: Uint8Array;
}

export type ChangeKind = 'file' | 'dir';

/** One change sent to `commit`; `baseVersionId` is the version the device last synced (null: none). */
export interface CommitChange {
  opId: string;
  fileId?: string;
  path: string;
  kind: ChangeKind;
  baseVersionId: string | null;
  deleted?: boolean;
  size?: number;
  mtime?: number;
  contentHash?: string;
  /** Exactly one of these for a content change: the chunk list, a base64 manifest delta against the base version's manifest, or an existing manifest id. */
  chunks?: { hash: string; size: number }[];
  chunksDelta?: string;
  manifestId?: string;
}

export interface CommitResult {
  opId: string;
  status: 'ok' | 'noop' | 'conflict' | 'rejected';
  /** Where this change's content (or state) now is on the server; after a lost conflict, the copy. */
  fileId: string;
  versionId: string;
  version: number;
  seq: number;
  path: string;
  conflictPath?: string;
  conflictFileId?: string;
  reason?: string;
  error?: { code: string; message: string };
}

export interface CommitAnswer {
  results: CommitResult[];
  headSeq: number;
  /** Asked for with `echo`: the versions the commit wrote, in seq order, as the change feed lists them. */
  changes?: FeedChange[];
}

/** One entry of the change feed: the state of a file or folder after change `seq`. */
export interface FeedChange {
  seq: number;
  fileId: string;
  versionId: string;
  version: number;
  path: string;
  prevPath: string | null;
  kind: ChangeKind;
  size: number;
  contentHash: string | null;
  manifestId: string | null;
  mtime: number;
  deviceId: string | null;
  deleted: boolean;
  opId?: string | null;
}

export type ChangesAnswer =
  { changes: FeedChange[]; headSeq: number; hasMore: boolean; resync?: false } | { resync: true };

export interface SnapshotAnswer {
  entries: FeedChange[];
  headSeq: number;
  cursor: string | null;
}

export interface ManifestItem {
  id: string;
  size: number;
  /** The base id the delta was made against, or null for a full list. */
  base: string | null;
  /** Base64 manifest delta (@ferry/core/manifest-delta). */
  delta: string;
}

export interface RealtimeHandle {
  close(): void;
  /** Resolves when the socket is open and subscribed. */
  ready: Promise<void>;
}

export interface RealtimeOptions {
  onAdvance: (space: string, seq: number) => void;
  onClose?: (reason: string) => void;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const hex = (b: Uint8Array) => {
  let s = '';
  for (const x of b) s += HEX[x];
  return s;
};

/** A lowercase or uppercase hex digit's value. */
const nibble = (c: number) => (c <= 57 ? c - 48 : (c | 32) - 87);

function unhex(s: string, out: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++)
    out[at + i] = (nibble(s.charCodeAt(2 * i)) << 4) | nibble(s.charCodeAt(2 * i + 1));
}

/**
 * Frames as body parts: each frame's header, then its payload as is. A fetch that takes byte parts
 * (see Transport.takesByteParts) writes them to the socket without joining them into one body.
 */
export function frameParts(frames: ChunkFrame[]): Uint8Array[] {
  const headers = new Uint8Array(frames.length * FRAME_HEADER);
  const view = new DataView(headers.buffer);
  const parts: Uint8Array[] = [];
  frames.forEach((f, i) => {
    const at = i * FRAME_HEADER;
    unhex(f.hash, headers, at);
    headers[at + 32] = f.flags;
    view.setUint32(at + 33, f.payload.length);
    parts.push(headers.subarray(at, at + FRAME_HEADER), f.payload);
  });
  return parts;
}

/** Packs frames into one request/response body. */
export function encodeFrames(frames: ChunkFrame[]): Uint8Array {
  return joinParts(frameParts(frames));
}

function joinParts(parts: Uint8Array[]): Uint8Array {
  return concatBytes(
    parts,
    parts.reduce((n, p) => n + p.length, 0),
  );
}

/**
 * Parses frames from a body that arrives in pieces, without joining the body: a frame that lies in
 * one piece is a view into it, and only a frame that spans pieces is joined, alone.
 */
export class FrameReader {
  /** The pieces of a frame that began in earlier pieces, their byte count, and its length once known. */
  #parts: Uint8Array[] = [];
  #bytes = 0;
  #total = -1;

  /** The frames completed by `piece`. */
  push(piece: Uint8Array): ChunkFrame[] {
    const frames: ChunkFrame[] = [];
    let at = 0;
    if (this.#bytes > 0) {
      // Complete the frame begun earlier with just the bytes it still needs; join it once.
      if (this.#total < 0) {
        const take = Math.min(FRAME_HEADER - this.#bytes, piece.length);
        this.#add(piece.subarray(0, take));
        at = take;
        if (this.#bytes < FRAME_HEADER) return frames;
        this.#total = frameLength(concatBytes(this.#parts, this.#bytes), 0);
      }
      const need = this.#total - this.#bytes;
      if (piece.length - at < need) {
        this.#add(piece.subarray(at));
        return frames;
      }
      this.#add(piece.subarray(at, at + need));
      frames.push(frameAt(concatBytes(this.#parts, this.#bytes), 0, this.#total));
      at += need;
      this.#parts = [];
      this.#bytes = 0;
      this.#total = -1;
    }
    while (piece.length - at >= FRAME_HEADER) {
      const len = frameLength(piece, at);
      if (piece.length - at < len) break;
      frames.push(frameAt(piece, at, len));
      at += len;
    }
    if (at < piece.length) {
      this.#add(piece.subarray(at));
      if (this.#bytes >= FRAME_HEADER) this.#total = frameLength(piece, at);
    }
    return frames;
  }

  /** Throws when the body ended inside a frame. */
  end(): void {
    if (this.#bytes === 0) return;
    throw new Error(this.#bytes < FRAME_HEADER ? 'truncated chunk frame header' : 'truncated chunk frame');
  }

  #add(part: Uint8Array): void {
    this.#parts.push(part);
    this.#bytes += part.length;
  }
}

function frameLength(buf: Uint8Array, at: number): number {
  return FRAME_HEADER + new DataView(buf.buffer, buf.byteOffset + at + 33, 4).getUint32(0);
}

/** The frame of `len` bytes (header included) at `at`. */
function frameAt(buf: Uint8Array, at: number, len: number): ChunkFrame {
  return {
    hash: hex(buf.subarray(at, at + 32)),
    flags: buf[at + 32],
    payload: buf.subarray(at + FRAME_HEADER, at + len),
  };
}

/** Splits a framed body back into frames (payloads are views into `body`). */
export function decodeFrames(body: Uint8Array): ChunkFrame[] {
  const r = new FrameReader();
  const frames = r.push(body);
  r.end();
  return frames;
}

const enc = encodeURIComponent;

export class SyncApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** The subset of `hashes` the server does not store. */
  async missingChunks(hashes: string[], signal?: AbortSignal): Promise<string[]> {
    return (
      await this.#t.json<{ missing: string[] }>('POST', '/api/v1/chunks/missing', {
        json: { hashes },
        idempotent: true,
        signal,
      })
    ).missing;
  }

  /**
   * Uploads framed chunks: one body, or its parts (`frameParts`), sent without a join when the fetch
   * can. The server verifies every hash. Safe to repeat.
   */
  async uploadChunks(body: Uint8Array | Uint8Array[], signal?: AbortSignal): Promise<void> {
    const res = await this.#t.request('POST', '/api/v1/chunks', {
      body: Array.isArray(body) && !this.#t.takesByteParts ? joinParts(body) : body,
      headers: { 'content-type': CHUNK_FRAMES_TYPE },
      idempotent: true,
      signal,
    });
    await res.body?.cancel();
  }

  /** Fetches chunks as frames (zstd-compressed where the server chose to when `compress`). */
  async getChunks(
    hashes: string[],
    o: { compress?: boolean; signal?: AbortSignal } = {},
  ): Promise<{ frames: ChunkFrame[]; bytes: number }> {
    const res = await this.#t.request('POST', '/api/v1/chunks/get', {
      json: { hashes, compress: o.compress },
      headers: { accept: CHUNK_FRAMES_TYPE },
      idempotent: true,
      signal: o.signal,
    });
    // Parsed as the body arrives: joining each multi-megabyte body first cost 224 ms of the CLI's
    // 5.2 s of CPU on a 302 MiB download, plus the page faults of fresh 8 MiB buffers.
    const reader = new FrameReader();
    const frames: ChunkFrame[] = [];
    let bytes = 0;
    const body = res.body?.getReader();
    for (let r = await body?.read(); r && !r.done; r = await body?.read()) {
      bytes += r.value.length;
      frames.push(...reader.push(r.value));
    }
    reader.end();
    return { frames, bytes };
  }

  /** A manifest as a delta (format of @ferry/core/manifest-delta) against `base`, or a full list. */
  async manifest(
    spaceId: string,
    manifestId: string,
    o: { base?: string; signal?: AbortSignal } = {},
  ): Promise<Uint8Array> {
    const res = await this.#t.request('GET', `/api/v1/spaces/${enc(spaceId)}/manifests/${enc(manifestId)}`, {
      query: { base: o.base },
      headers: { accept: 'application/x-ferry-manifest' },
      signal: o.signal,
    });
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Many manifests at once (≤ 1000), each a base64 delta against its base when the server knows it. */
  async manifests(
    spaceId: string,
    items: { id: string; base: string | null }[],
    signal?: AbortSignal,
  ): Promise<ManifestItem[]> {
    const r = await this.#t.json<{ manifests: ManifestItem[] }>(
      'POST',
      `/api/v1/spaces/${enc(spaceId)}/manifests/get`,
      {
        json: { items },
        idempotent: true,
        signal,
      },
    );
    return r.manifests;
  }

  /** Commits a batch in one transaction; retrying with the same opIds is safe. */
  commit(
    spaceId: string,
    changes: CommitChange[],
    signal?: AbortSignal,
    o: { echo?: boolean } = {},
  ): Promise<CommitAnswer> {
    return this.#t.json('POST', `/api/v1/spaces/${enc(spaceId)}/commit`, {
      json: o.echo ? { changes, echo: true } : { changes },
      idempotent: true,
      signal,
    });
  }

  /** Changes after `since`; with `wait` (seconds) the server holds the request until something arrives. */
  changes(
    spaceId: string,
    since: number,
    o: { limit?: number; wait?: number; signal?: AbortSignal } = {},
  ): Promise<ChangesAnswer> {
    return this.#t.json('GET', `/api/v1/spaces/${enc(spaceId)}/changes`, {
      query: { since, limit: o.limit, wait: o.wait },
      signal: o.signal,
    });
  }

  /** One page of the live tree (after a `resync` answer); take headSeq from the first page. */
  snapshot(
    spaceId: string,
    o: { cursor?: string | null; limit?: number; signal?: AbortSignal } = {},
  ): Promise<SnapshotAnswer> {
    return this.#t.json('GET', `/api/v1/spaces/${enc(spaceId)}/snapshot`, {
      query: { cursor: o.cursor ?? undefined, limit: o.limit },
      signal: o.signal,
    });
  }

  /**
   * Opens the realtime channel and subscribes to spaces. The caller reconnects after onClose
   * (with backoff); a fresh access token is fetched for each connection.
   */
  async realtime(spaces: string[], o: RealtimeOptions): Promise<RealtimeHandle> {
    const session = this.#t.session;
    if (!session) throw new Error('not signed in');
    if (session.accessExpiresAt - Date.now() < 30_000) await this.#t.refresh();
    const token = this.#t.session?.accessToken ?? session.accessToken;
    const ws = this.#t.openWebSocket('/api/v1/ws', { token });
    let closed = false;
    const ready = new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => {
        ws.send(JSON.stringify({ type: 'subscribe', spaces }));
        resolve();
      });
      ws.addEventListener('error', () => reject(new Error('realtime connection failed')));
    });
    ready.catch(() => undefined);
    ws.addEventListener('message', (ev: MessageEvent) => {
      if (typeof ev.data !== 'string') return;
      try {
        const msg = JSON.parse(ev.data) as { type?: string; space?: string; seq?: number };
        if (msg.type === 'space.advanced' && typeof msg.space === 'string' && typeof msg.seq === 'number')
          o.onAdvance(msg.space, msg.seq);
      } catch {
        // not a message of ours
      }
    });
    ws.addEventListener('close', (ev: CloseEvent) => {
      if (!closed) o.onClose?.(ev.reason || `closed (${ev.code})`);
      closed = true;
    });
    return {
      ready,
      close() {
        closed = true;
        ws.close();
      },
    };
  }
}
