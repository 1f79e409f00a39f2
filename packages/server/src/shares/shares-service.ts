// Share links: create, list and revoke (signed in), and open or download (public, by token).
// Tokens are 256 random bits shown once; only their SHA-256 is stored, so a database leak does not
// leak working links. Passwords are scrypt-hashed; wrong guesses are throttled per link.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { FerryError, NotFoundError } from '@ferry/core/errors';
import { isWithin, normalizePath } from '@ferry/core/paths';
import type { AuthContext } from '../auth/auth-service.ts';
import { hashPassword, verifyPassword } from '../auth/passwords.ts';
import { LoginThrottle } from '../auth/login-throttle.ts';
import type { FilesService } from '../files/files-service.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { FileEntry } from '../store/meta/types.ts';
import type { ShareRecord, SqlShareStore } from './share-store.ts';

/** Share-specific error codes (statuses in SHARE_ERROR_CODES); mapped by the common error handler. */
export const SHARE_ERROR_CODES = {
  PASSWORD_REQUIRED: {
    status: 401,
    doc: 'The share link is protected by a password; send it in X-Share-Password.',
  },
  WRONG_PASSWORD: { status: 401, doc: 'The password given for the share link is wrong.' },
  SHARE_EXPIRED: { status: 410, doc: 'The share link has expired.' },
  DOWNLOAD_LIMIT_REACHED: {
    status: 410,
    doc: 'The share link has been downloaded as many times as it allows.',
  },
} as const;
type ShareErrorCode = keyof typeof SHARE_ERROR_CODES;

export class ShareError extends FerryError {
  constructor(code: ShareErrorCode, message: string) {
    super('FORBIDDEN', message);
    // The shared catalogue in @ferry/core does not list these yet; override code and status here.
    (this as { code: string }).code = code;
    (this as { status: number }).status = SHARE_ERROR_CODES[code].status;
  }
}

export interface CreateShareInput {
  path: string;
  space?: string;
  expiresAt?: number;
  password?: string;
  maxDownloads?: number;
}

export interface ShareView {
  id: string;
  spaceId: string;
  path: string;
  kind: 'file' | 'dir';
  createdAt: number;
  expiresAt: number | null;
  hasPassword: boolean;
  maxDownloads: number | null;
  downloads: number;
}

export interface PublicShareView {
  name: string;
  kind: 'file' | 'dir';
  size: number;
  mtime: number;
  expiresAt: number | null;
  downloadsLeft: number | null;
  entries?: { path: string; size: number; kind: 'file' | 'dir' }[];
}

export interface SharesServiceDeps {
  store: SqlShareStore;
  files: FilesService;
  spaces: SpacesService;
  /** Wrong passwords allowed per link per window before RATE_LIMITED. */
  passwordAttempts?: number;
  now?: () => number;
}

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');
const MAX_FOLDER_ENTRIES = 1000;

export function shareView(s: ShareRecord): ShareView {
  return {
    id: s.id,
    spaceId: s.spaceId,
    path: s.path,
    kind: s.kind,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    hasPassword: s.passwordHash !== null,
    maxDownloads: s.maxDownloads,
    downloads: s.downloads,
  };
}

export class SharesService {
  readonly #store: SqlShareStore;
  readonly #files: FilesService;
  readonly #spaces: SpacesService;
  readonly #throttle: LoginThrottle;
  readonly #now: () => number;

  constructor(d: SharesServiceDeps) {
    this.#store = d.store;
    this.#files = d.files;
    this.#spaces = d.spaces;
    this.#throttle = new LoginThrottle(d.passwordAttempts ?? 10);
    this.#now = d.now ?? Date.now;
  }

  /** Creates a link; the token in the answer is never stored or shown again. Needs write access. */
  async create(auth: AuthContext, input: CreateShareInput): Promise<{ share: ShareView; token: string }> {
    const space = await this.#spaces.resolve(auth, input.space, 'write');
    const entry = await this.#files.getLive(space.id, { path: input.path });
    if (input.expiresAt !== undefined && input.expiresAt <= this.#now())
      throw new FerryError('BAD_REQUEST', 'expiresAt is in the past');
    const token = randomBytes(32).toString('base64url');
    const record: ShareRecord = {
      id: randomUUID(),
      tokenHash: hashToken(token),
      spaceId: space.id,
      fileId: entry.id,
      path: entry.path,
      kind: entry.kind,
      createdBy: auth.userId,
      createdAt: this.#now(),
      expiresAt: input.expiresAt ?? null,
      passwordHash: input.password ? await hashPassword(input.password) : null,
      maxDownloads: input.maxDownloads ?? null,
      downloads: 0,
    };
    await this.#store.insert(record);
    return { share: shareView(record), token };
  }

  async list(auth: AuthContext): Promise<ShareView[]> {
    return (await this.#store.listByCreator(auth.userId)).map(shareView);
  }

  /** Revokes a link: its creator or an admin. Someone else's link is NOT_FOUND, not FORBIDDEN. */
  async revoke(auth: AuthContext, id: string): Promise<void> {
    const s = await this.#store.byId(id);
    if (!s || (s.createdBy !== auth.userId && auth.role !== 'admin')) throw new NotFoundError('share');
    await this.#store.delete(id);
  }

  /** Checks token, expiry and password; resolves the live entry the link points at. */
  async open(token: string, password: string | undefined): Promise<{ share: ShareRecord; entry: FileEntry }> {
    const share = await this.#store.byTokenHash(hashToken(token));
    if (!share) throw new NotFoundError('share');
    if (share.expiresAt !== null && share.expiresAt <= this.#now())
      throw new ShareError('SHARE_EXPIRED', 'this link has expired');
    if (share.passwordHash) {
      if (!password) throw new ShareError('PASSWORD_REQUIRED', 'this link needs a password');
      this.#throttle.check([{ key: share.id }]);
      if (!(await verifyPassword(password, share.passwordHash))) {
        this.#throttle.fail([share.id]);
        throw new ShareError('WRONG_PASSWORD', 'wrong password');
      }
    }
    let entry: FileEntry;
    try {
      entry = await this.#files.getLive(share.spaceId, { id: share.fileId });
    } catch (e) {
      if (e instanceof FerryError && e.code === 'NOT_FOUND') throw new NotFoundError('share');
      throw e;
    }
    return { share, entry };
  }

  async describe(token: string, password: string | undefined): Promise<PublicShareView> {
    const { share, entry } = await this.open(token, password);
    const view: PublicShareView = {
      name: entry.path.slice(entry.path.lastIndexOf('/') + 1),
      kind: entry.kind,
      size: entry.size,
      mtime: entry.mtime,
      expiresAt: share.expiresAt,
      downloadsLeft: share.maxDownloads === null ? null : Math.max(0, share.maxDownloads - share.downloads),
    };
    if (entry.kind === 'dir') {
      const { entries } = await this.#files.list(share.spaceId, entry.path, {
        recursive: true,
        limit: MAX_FOLDER_ENTRIES,
      });
      view.entries = entries.map((e) => ({
        path: e.path.slice(entry.path.length + 1),
        size: e.size,
        kind: e.kind,
      }));
    }
    return view;
  }

  /**
   * Resolves what a public download sends and counts it against the limit. `relPath` picks a file
   * inside a shared folder. `count` is false for Range continuations so resuming is not a new download.
   */
  async download(
    token: string,
    password: string | undefined,
    relPath: string | undefined,
    count: boolean,
  ): Promise<FileEntry> {
    const { share, entry } = await this.open(token, password);
    let target = entry;
    if (entry.kind === 'dir') {
      if (!relPath)
        throw new FerryError('IS_A_DIRECTORY', 'this link is a folder: choose a file with ?path=');
      const full = normalizePath(`${entry.path}/${relPath.replace(/^\/+/, '')}`);
      if (!isWithin(full, entry.path)) throw new NotFoundError('file');
      target = await this.#files.getLive(share.spaceId, { path: full });
    } else if (relPath) {
      throw new FerryError('BAD_REQUEST', 'this link is a single file; ?path= is not allowed');
    }
    if (target.kind !== 'file')
      throw new FerryError('IS_A_DIRECTORY', `${relPath ?? target.path} is a folder`);
    // A continuation is free only when a counted download started before it.
    const counts = count || share.downloads === 0;
    if (counts && !(await this.#store.countDownload(share.id)))
      throw new ShareError('DOWNLOAD_LIMIT_REACHED', 'this link has no downloads left');
    return target;
  }
}
