// The one error type the SDK throws for a failed request: the server's `{ error: { code, message,
// details } }` body, or a synthetic code for failures that never reached the server.

/** Codes the SDK produces itself when there is no server answer to parse. */
export const CLIENT_ERROR_CODES = {
  NETWORK_ERROR: 'The request did not reach the server (offline, DNS, connection reset).',
  BAD_RESPONSE: 'The server answered with a body the SDK could not parse.',
  NOT_SIGNED_IN: 'The call needs a session but the client has none.',
} as const;

export class FerryApiError extends Error {
  /** HTTP status; 0 when the request never got an answer. */
  readonly status: number;
  /** Machine-readable code from the server's error catalogue, or one of CLIENT_ERROR_CODES. */
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  constructor(
    status: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FerryApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  /** True when retrying later may succeed: no answer at all, a 5xx, or rate limiting. */
  get transient(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 429;
  }
}

export function isFerryApiError(e: unknown): e is FerryApiError {
  return e instanceof FerryApiError;
}

/** Builds a FerryApiError from a non-2xx response, tolerating bodies that are not Ferry's JSON. */
export function errorFromBody(status: number, bodyText: string, statusText = ''): FerryApiError {
  try {
    const parsed = JSON.parse(bodyText) as {
      error?: { code?: unknown; message?: unknown; details?: unknown };
    };
    const err = parsed?.error;
    if (err && typeof err.code === 'string') {
      const details =
        err.details && typeof err.details === 'object' ? (err.details as Record<string, unknown>) : undefined;
      return new FerryApiError(
        status,
        err.code,
        typeof err.message === 'string' ? err.message : err.code,
        details,
      );
    }
  } catch {
    // not JSON: fall through to a generic error below
  }
  return new FerryApiError(
    status,
    `HTTP_${status}`,
    statusText || bodyText.slice(0, 200) || `HTTP ${status}`,
  );
}
