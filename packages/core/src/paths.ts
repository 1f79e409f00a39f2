// Path rules shared by server and clients: one canonical form per path (NFC, '/'-separated,
// absolute, no '.'/'..' segments), names that every OS can store, and conflict-copy names.

import { FerryError } from './errors.ts';

export const MAX_NAME_BYTES = 255;
export const MAX_PATH_BYTES = 4096;

// Windows reserves these device names with any extension; refusing them keeps a space syncable everywhere.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const FORBIDDEN_CHARS = /[\\:*?"<>|]/;

const encoder = new TextEncoder();

/** Checks one path segment; throws INVALID_NAME or INVALID_PATH. */
export function validateName(name: string): void {
  if (name.length === 0) throw new FerryError('INVALID_PATH', 'empty path segment');
  if (name === '.' || name === '..')
    throw new FerryError('INVALID_PATH', `path segment "${name}" is not allowed`);
  if (CONTROL.test(name))
    throw new FerryError('INVALID_NAME', 'names may not contain NUL or control characters');
  if (FORBIDDEN_CHARS.test(name))
    throw new FerryError('INVALID_NAME', `name "${name}" contains a forbidden character (\\ : * ? " < > |)`);
  if (encoder.encode(name).length > MAX_NAME_BYTES)
    throw new FerryError('INVALID_NAME', `name is longer than ${MAX_NAME_BYTES} bytes`);
  if (RESERVED.test(name)) throw new FerryError('INVALID_NAME', `"${name}" is a reserved name`);
  if (name.endsWith(' ') || name.endsWith('.'))
    throw new FerryError('INVALID_NAME', `name "${name}" may not end with a space or a dot`);
}

/**
 * Returns the canonical form of a user-supplied path: NFC, leading '/', no trailing '/', repeated
 * slashes collapsed. The root is '/'. Throws INVALID_PATH for relative, empty or traversing paths.
 */
export function normalizePath(input: unknown, { allowRoot = false } = {}): string {
  if (typeof input !== 'string' || input.length === 0)
    throw new FerryError('INVALID_PATH', 'path is required');
  if (!input.startsWith('/')) throw new FerryError('INVALID_PATH', 'path must be absolute (start with "/")');
  const nfc = input.normalize('NFC');
  if (encoder.encode(nfc).length > MAX_PATH_BYTES)
    throw new FerryError('INVALID_PATH', `path is longer than ${MAX_PATH_BYTES} bytes`);
  const parts = nfc.split('/').filter((p) => p !== '');
  if (parts.length === 0) {
    if (allowRoot) return '/';
    throw new FerryError('INVALID_PATH', 'the root folder is not allowed here');
  }
  for (const part of parts) validateName(part);
  return '/' + parts.join('/');
}

export function parentPath(path: string): string {
  const i = path.lastIndexOf('/');
  return i <= 0 ? '/' : path.slice(0, i);
}

export function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

export function joinPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Every ancestor folder of a path, outermost first, excluding '/' and the path itself. */
export function ancestors(path: string): string[] {
  const parts = path.split('/').slice(1, -1);
  const out: string[] = [];
  let cur = '';
  for (const p of parts) {
    cur += '/' + p;
    out.push(cur);
  }
  return out;
}

/** True when `path` is `dir` or lies inside it. */
export function isWithin(path: string, dir: string): boolean {
  return dir === '/' || path === dir || path.startsWith(dir + '/');
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

/**
 * `name (conflict from DEVICE YYYY-MM-DD HHMMSS).ext` in UTC, as SPEC.md says. The extension is
 * the part after the last dot of the base name (a leading dot does not start an extension).
 */
export function conflictCopyPath(path: string, device: string, at: Date): string {
  const dir = parentPath(path);
  const name = baseName(path);
  const dot = name.lastIndexOf('.');
  const stem = dot > 0 ? name.slice(0, dot) : name;
  const ext = dot > 0 ? name.slice(dot) : '';
  // eslint-disable-next-line no-control-regex -- control characters are exactly what must go
  const safeDevice = device.replace(/[\\/:*?"<>|\u0000-\u001f\u007f]/g, '_').trim() || 'device';
  const stamp = `${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())} ${pad(at.getUTCHours())}${pad(at.getUTCMinutes())}${pad(at.getUTCSeconds())}`;
  return joinPath(dir, `${stem} (conflict from ${safeDevice} ${stamp})${ext}`);
}

const CONFLICT_RE = / \(conflict from .+ \d{4}-\d{2}-\d{2} \d{6}\)(\.[^/]*)?$/;

export function isConflictCopy(path: string): boolean {
  return CONFLICT_RE.test(baseName(path));
}
