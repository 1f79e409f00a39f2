// Files and folders of a space: list, upload, download, move, delete, versions, conflicts.

import { FerryApiError, isFerryApiError } from './errors.ts';
import type { Transport, UploadProgress } from './transport.ts';
import type { FileInfo, FileVersion, ListPage } from './types.ts';

/** Every file call may name a space by id or name; the default is the caller's default space. */
export interface SpaceOption {
  space?: string;
}

export interface ListOptions extends SpaceOption {
  recursive?: boolean;
  limit?: number;
  cursor?: string | null;
  signal?: AbortSignal;
}

export interface UploadOptions extends SpaceOption {
  /** Modification time to record, ms since epoch (a File's lastModified by default). */
  mtime?: number;
  contentType?: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

export interface DownloadOptions extends SpaceOption {
  /** Byte range, inclusive start, exclusive end (sent as an HTTP Range header). */
  range?: { start: number; end?: number };
  signal?: AbortSignal;
}

export type FileRef = { id: string } | { path: string };

export interface FileHead {
  /** Id of the file's current version (null from a server that does not send it). */
  versionId: string | null;
  contentHash: string | null;
  size: number;
}

export class FilesApi {
  readonly #t: Transport;
  constructor(t: Transport) {
    this.#t = t;
  }

  /** One page of a folder's entries. */
  list(path = '/', o: ListOptions = {}): Promise<ListPage> {
    return this.#t.json('GET', '/api/v1/files/list', {
      query: {
        path,
        space: o.space,
        recursive: o.recursive ? 'true' : undefined,
        limit: o.limit,
        cursor: o.cursor ?? undefined,
      },
      signal: o.signal,
    });
  }

  /** Every entry of a folder, following cursors page by page. */
  async *listAll(path = '/', o: Omit<ListOptions, 'cursor'> = {}): AsyncGenerator<FileInfo> {
    let cursor: string | null = null;
    do {
      const page: ListPage = await this.list(path, { ...o, cursor });
      yield* page.entries;
      cursor = page.cursor;
    } while (cursor);
  }

  info(id: string): Promise<FileInfo> {
    return this.#t.json('GET', `/api/v1/files/${encodeURIComponent(id)}/info`);
  }

  /** Uploads bytes to a path (parents are created). Progress works in browsers and Node. */
  upload(path: string, body: Blob | Uint8Array | ArrayBuffer, o: UploadOptions = {}): Promise<FileInfo> {
    const mtime =
      o.mtime ?? (typeof File !== 'undefined' && body instanceof File ? body.lastModified : undefined);
    const contentType = o.contentType ?? (body instanceof Blob && body.type ? body.type : undefined);
    return this.#t.upload<FileInfo>({
      path: '/api/v1/files/upload',
      query: { path, space: o.space, mtime },
      body,
      contentType,
      onProgress: o.onProgress,
      signal: o.signal,
    });
  }

  /** The raw download response (stream it, or call .blob()/.arrayBuffer()). */
  download(ref: FileRef, o: DownloadOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: '*/*' };
    if (o.range) headers.range = `bytes=${o.range.start}-${o.range.end !== undefined ? o.range.end - 1 : ''}`;
    return this.#t.request('GET', '/api/v1/files/download', {
      query: { ...('id' in ref ? { id: ref.id } : { path: ref.path }), space: o.space },
      headers,
      signal: o.signal,
    });
  }

  /**
   * The current version of the file at `path` (a HEAD of its download: no body is sent), or null
   * when nothing is there. `versionId` is the base for a sync commit on top of it.
   */
  async head(path: string, o: SpaceOption = {}): Promise<FileHead | null> {
    try {
      const res = await this.#t.request('HEAD', '/api/v1/files/download', {
        query: { path, space: o.space },
        headers: { accept: '*/*' },
      });
      return {
        versionId: res.headers.get('x-ferry-version-id'),
        contentHash: res.headers.get('x-content-sha256') || null,
        size: Number(res.headers.get('content-length') ?? 0),
      };
    } catch (e) {
      if (isFerryApiError(e) && e.status === 404) return null;
      // A HEAD answer has no error body: name the one case a caller can act on.
      if (isFerryApiError(e) && e.status === 409)
        throw new FerryApiError(409, 'IS_A_DIRECTORY', `${path} is a folder`);
      throw e;
    }
  }

  async downloadBytes(ref: FileRef, o: DownloadOptions = {}): Promise<Uint8Array> {
    return new Uint8Array(await (await this.download(ref, o)).arrayBuffer());
  }

  /** Moves the entry to the trash. */
  delete(id: string): Promise<FileInfo> {
    return this.#t.json('DELETE', `/api/v1/files/${encodeURIComponent(id)}`);
  }

  /** Files and folders of a space whose name contains `q` (case-insensitive). */
  async search(q: string, o: SpaceOption & { signal?: AbortSignal } = {}): Promise<FileInfo[]> {
    return (
      await this.#t.json<{ entries: FileInfo[] }>('GET', '/api/v1/files/search', {
        query: { q, space: o.space },
        signal: o.signal,
      })
    ).entries;
  }

  /** Renames or moves a file or folder to a new absolute path. */
  move(id: string, path: string): Promise<FileInfo> {
    return this.#t.json('POST', `/api/v1/files/${encodeURIComponent(id)}/move`, {
      json: { path },
      idempotent: true,
    });
  }

  mkdir(path: string, o: SpaceOption = {}): Promise<FileInfo> {
    return this.#t.json('POST', '/api/v1/files/mkdir', {
      json: { path },
      query: { space: o.space },
      idempotent: true,
    });
  }

  async versions(id: string): Promise<FileVersion[]> {
    return (
      await this.#t.json<{ versions: FileVersion[] }>(
        'GET',
        `/api/v1/files/${encodeURIComponent(id)}/versions`,
      )
    ).versions;
  }

  /** Makes an older version the current one (a new version with its content). */
  restoreVersion(id: string, version: number): Promise<FileInfo> {
    return this.#t.json('POST', `/api/v1/files/${encodeURIComponent(id)}/restore`, {
      json: { version },
    });
  }

  /** Conflict copies in a space. */
  async conflicts(o: SpaceOption = {}): Promise<FileInfo[]> {
    return (
      await this.#t.json<{ entries: FileInfo[] }>('GET', '/api/v1/conflicts', { query: { space: o.space } })
    ).entries;
  }
}
