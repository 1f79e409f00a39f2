// The watch API's rules (Garmin-class devices, 128-512 KB of app memory): only .fit, .gpx, .tcx and
// .json files of at most 100 KB travel; uploads land in one configured folder of the owner's
// default space. Storage and transfer go through FilesService like every other upload.

import { FerryError } from '@ferry/core/errors';
import { joinPath, normalizePath } from '@ferry/core/paths';
import type { FileEntry } from '../store/meta/types.ts';
import type { Actor, FilesService } from '../files/files-service.ts';

export const GARMIN_MAX_BYTES = 100 * 1024;
export const GARMIN_TYPES = ['.fit', '.gpx', '.tcx', '.json'] as const;
/** Entries examined per listing request, so one request stays cheap however sparse the matches. */
const SCAN_LIMIT = 5000;

export function isWatchFile(name: string): boolean {
  const lower = name.toLowerCase();
  return GARMIN_TYPES.some((t) => lower.endsWith(t) && lower.length > t.length);
}

export class GarminService {
  readonly #files: FilesService;
  readonly #folder: string;

  constructor(o: { files: FilesService; folder: string }) {
    this.#files = o.files;
    this.#folder = normalizePath(o.folder, { allowRoot: true });
  }

  get folder(): string {
    return this.#folder;
  }

  /** Watch files (allowed type, ≤ 100 KB) under `dir`, by path, a page at a time. */
  async list(
    spaceId: string,
    dir: string,
    o: { limit: number; cursor?: string },
  ): Promise<{ files: FileEntry[]; cursor: string | null }> {
    const found: FileEntry[] = [];
    let cursor = o.cursor;
    let scanned = 0;
    while (found.length < o.limit && scanned < SCAN_LIMIT) {
      const page = await this.#files.list(spaceId, dir, { recursive: true, limit: 500, cursor });
      for (const e of page.entries) {
        scanned++;
        cursor = Buffer.from(e.path, 'utf8').toString('base64url');
        if (e.kind === 'file' && e.size <= GARMIN_MAX_BYTES && isWatchFile(e.path)) found.push(e);
        if (found.length === o.limit) return { files: found, cursor };
      }
      if (!page.cursor) return { files: found, cursor: null };
    }
    return { files: found, cursor: cursor ?? null };
  }

  /** A file a watch may download; PAYLOAD_TOO_LARGE over 100 KB, UNSUPPORTED_MEDIA_TYPE for other types. */
  async downloadable(spaceId: string, id: string): Promise<FileEntry> {
    const e = await this.#files.getLive(spaceId, { id });
    if (e.kind !== 'file') throw new FerryError('IS_A_DIRECTORY', 'a folder cannot be downloaded to a watch');
    if (!isWatchFile(e.path))
      throw new FerryError('UNSUPPORTED_MEDIA_TYPE', `watches take only ${GARMIN_TYPES.join(', ')} files`);
    if (e.size > GARMIN_MAX_BYTES)
      throw new FerryError('PAYLOAD_TOO_LARGE', `file is larger than ${GARMIN_MAX_BYTES / 1024} KB`, {
        size: e.size,
        max: GARMIN_MAX_BYTES,
      });
    return e;
  }

  /** Stores `body` as `name` in the watch folder (a new version when the name exists). */
  async upload(
    space: { id: string; ownerId: string },
    name: string,
    body: Buffer,
    actor: Actor,
  ): Promise<FileEntry> {
    if (name.includes('/') || name.includes('\\'))
      throw new FerryError('INVALID_NAME', 'give a file name, not a path');
    if (!isWatchFile(name))
      throw new FerryError('UNSUPPORTED_MEDIA_TYPE', `watches upload only ${GARMIN_TYPES.join(', ')} files`);
    if (body.length > GARMIN_MAX_BYTES)
      throw new FerryError(
        'PAYLOAD_TOO_LARGE',
        `uploads from a watch are at most ${GARMIN_MAX_BYTES / 1024} KB`,
      );
    if (body.length === 0) throw new FerryError('BAD_REQUEST', 'the upload is empty');
    return this.#files.upload(space, joinPath(this.#folder, name), oneChunk(body), {
      actor,
      declaredSize: body.length,
    });
  }
}

async function* oneChunk(b: Uint8Array): AsyncIterable<Uint8Array> {
  yield b;
}
