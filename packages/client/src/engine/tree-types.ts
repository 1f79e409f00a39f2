// The three trees the planner compares: synced (agreed last), local (scanner) and remote (change
// feed). Paths are canonical Ferry paths: NFC, '/'-separated, leading '/'.

export type EntryKind = 'file' | 'dir';

export interface Entry {
  path: string;
  kind: EntryKind;
  size: number;
  /** ms since epoch */
  mtime: number;
  /** SHA-256 hex of the bytes; null for folders. */
  contentHash: string | null;
  manifestId: string | null;
}

export interface LocalEntry extends Entry {
  ino: number | null;
  /** Packed 36-byte chunk refs of the file (null for folders). */
  refs: Uint8Array | null;
  /** Path as stored on disk, relative with a leading '/', when it is not already NFC. */
  diskPath: string;
  /** size:mtimeNs:ctimeNs:ino — when unchanged, the cached hash is still right. */
  stamp?: string;
  /** An offloaded file: the bytes are on the server only. */
  placeholder?: boolean;
}

export interface RemoteEntry extends Entry {
  fileId: string;
  versionId: string;
  deviceId: string | null;
}

export interface SyncedEntry extends Entry {
  fileId: string | null;
  versionId: string | null;
  ino: number | null;
  refs: Uint8Array | null;
}

/** True when two entries hold the same thing (same kind and, for files, the same bytes). */
export function sameContent(a: Entry | undefined, b: Entry | undefined): boolean {
  if (!a || !b) return !a && !b;
  if (a.kind !== b.kind) return false;
  return a.kind === 'dir' || a.contentHash === b.contentHash;
}
