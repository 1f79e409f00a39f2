// The one catalogue of Ferry's error codes. Services and stores throw FerryError subclasses;
// the HTTP layer maps them to `{ error: { code, message, details } }` with the status below.

export const ERROR_CODES = {
  BAD_REQUEST: { status: 400, doc: 'The request is malformed: bad JSON, a missing or unknown field.' },
  INVALID_PATH: {
    status: 400,
    doc: 'The path is empty, relative, traverses upward, or has forbidden characters.',
  },
  INVALID_NAME: { status: 400, doc: 'A name is reserved, too long, or has forbidden characters.' },
  HASH_MISMATCH: { status: 400, doc: 'Uploaded data does not match the hash it was sent under.' },
  CHUNKS_MISSING: {
    status: 400,
    doc: 'A sync commit references chunks the server does not have for you; upload them (details.missing) and retry.',
  },
  SIZE_MISMATCH: {
    status: 400,
    doc: "A sync commit's size or content hash does not agree with its chunk list.",
  },
  DELTA_BASE_UNKNOWN: {
    status: 400,
    doc: 'A chunk-list delta cannot be applied: its base manifest is unknown or it is malformed; send the full chunk list.',
  },
  UNAUTHORIZED: { status: 401, doc: 'No valid credentials: missing, expired, forged or revoked token.' },
  INVALID_CREDENTIALS: { status: 401, doc: 'Wrong username or password.' },
  TOKEN_REUSED: { status: 401, doc: 'A refresh token was replayed; its whole family has been revoked.' },
  FORBIDDEN: { status: 403, doc: 'Authenticated, but the role does not allow this action.' },
  NOT_FOUND: { status: 404, doc: 'No such resource, or it belongs to someone else.' },
  ALREADY_EXISTS: { status: 409, doc: 'Something already exists at that name or path.' },
  CONFLICT: { status: 409, doc: 'The change is based on a version that is no longer current.' },
  NOT_A_DIRECTORY: { status: 409, doc: 'A path component is a file, not a folder.' },
  IS_A_DIRECTORY: { status: 409, doc: 'The operation needs a file but the path is a folder.' },
  PAYLOAD_TOO_LARGE: { status: 413, doc: 'The body is larger than the route allows.' },
  QUOTA_EXCEEDED: { status: 413, doc: 'The upload would take the user over their storage quota.' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, doc: 'The content type is not accepted by this route.' },
  RANGE_NOT_SATISFIABLE: { status: 416, doc: 'The requested byte range lies outside the file.' },
  RATE_LIMITED: { status: 429, doc: 'Too many attempts; retry after the time in Retry-After.' },
  UNAVAILABLE: { status: 503, doc: 'The server is overloaded or shutting down; retry later.' },
  INTERNAL: { status: 500, doc: 'An unexpected error; details are in the server log, not the response.' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class FerryError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;
  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'FerryError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.details = details;
  }
}

export class NotFoundError extends FerryError {
  constructor(what = 'resource', details?: Record<string, unknown>) {
    super('NOT_FOUND', `${what} not found`, details);
  }
}

export class ConflictError extends FerryError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('CONFLICT', message, details);
  }
}

export class ValidationError extends FerryError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('BAD_REQUEST', message, details);
  }
}

export class QuotaExceededError extends FerryError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('QUOTA_EXCEEDED', message, details);
  }
}

export function isFerryError(e: unknown): e is FerryError {
  return e instanceof FerryError;
}
