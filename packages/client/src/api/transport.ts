// HTTP plumbing shared by every API group: base URL, bearer auth, single-flight token refresh on
// 401, retries with exponential backoff + full jitter, and error parsing. Browser and Node 24 alike:
// only fetch, AbortSignal, ReadableStream and (in browsers, for upload progress) XMLHttpRequest.

import { FerryApiError, errorFromBody } from './errors.ts';
import type { LoginResult, Session } from './types.ts';

/** Where a session lives between calls. Must be synchronous so every request sees the latest token. */
export interface TokenStore {
  load(): Session | null;
  save(session: Session | null): void;
}

export class MemoryTokenStore implements TokenStore {
  #session: Session | null;
  constructor(initial: Session | null = null) {
    this.#session = initial;
  }
  load(): Session | null {
    return this.#session;
  }
  save(session: Session | null): void {
    this.#session = session;
  }
}

export interface RetryOptions {
  /** Extra attempts after the first one; 0 disables retries. */
  retries: number;
  /** First backoff ceiling; doubles per attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = Object.freeze({ retries: 3, baseDelayMs: 200, maxDelayMs: 5000 });

export interface TransportOptions {
  /** Server origin, e.g. "https://ferry.example.com". Empty (the default) means same-origin (browser). */
  baseUrl?: string;
  fetch?: typeof fetch;
  /** The WebSocket class for the realtime channel; default the global one (browsers, Node's built-in). */
  webSocket?: typeof WebSocket;
  tokens?: TokenStore;
  retry?: Partial<RetryOptions>;
  /** Called after login, refresh and logout, and when the session is dropped because refresh failed. */
  onSessionChange?: (session: Session | null) => void;
  /** Refresh proactively when the access token has less than this left. */
  refreshSkewMs?: number;
}

export type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Serialized as JSON with content-type application/json. */
  json?: unknown;
  /**
   * A raw body; a ReadableStream body is never retried (it cannot be replayed). Byte parts only
   * when `takesByteParts`.
   */
  body?: BodyInit | Uint8Array | Uint8Array[];
  headers?: Record<string, string>;
  /** Send the bearer token and refresh on 401 (default true). */
  auth?: boolean;
  /** Safe to repeat after a network error or 5xx. Defaults to true for GET/HEAD/PUT/DELETE. */
  idempotent?: boolean;
  signal?: AbortSignal;
}

export interface UploadProgress {
  loaded: number;
  total: number;
}

export interface UploadRequest {
  path: string;
  query?: Record<string, QueryValue>;
  body: Blob | Uint8Array | ArrayBuffer;
  contentType?: string;
  onProgress?: (p: UploadProgress) => void;
  signal?: AbortSignal;
}

interface RawAnswer {
  status: number;
  statusText: string;
  text: string;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

export function sessionFromLogin(r: LoginResult, now = Date.now()): Session {
  return {
    accessToken: r.accessToken,
    refreshToken: r.refreshToken,
    accessExpiresAt: now + r.expiresIn * 1000,
    deviceId: r.deviceId,
    user: r.user,
  };
}

/** Full-jitter backoff: a uniform wait in [0, min(max, base * 2^attempt)]. */
export function backoffDelay(attempt: number, o: RetryOptions, random = Math.random): number {
  return Math.floor(random() * Math.min(o.maxDelayMs, o.baseDelayMs * 2 ** attempt));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function isAbort(e: unknown): boolean {
  return e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError');
}

export class Transport {
  readonly baseUrl: string;
  readonly tokens: TokenStore;
  readonly retry: RetryOptions;
  /**
   * The fetch takes a body of byte parts (an array of Uint8Array) and writes them as they are: a
   * function marked `takesByteParts`, such as the Node CLI's httpFetch. Standard fetches do not.
   */
  readonly takesByteParts: boolean;
  readonly #webSocket: typeof WebSocket | undefined;
  readonly #fetch: typeof fetch;
  readonly #onSessionChange: ((s: Session | null) => void) | undefined;
  readonly #refreshSkewMs: number;
  #refreshing: Promise<Session> | null = null;

  constructor(options: TransportOptions = {}) {
    this.baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    // Bind: calling an unbound window.fetch throws "Illegal invocation" in browsers.
    const f = options.fetch ?? globalThis.fetch;
    this.#fetch = f.bind(globalThis);
    this.takesByteParts = (f as { takesByteParts?: boolean }).takesByteParts === true;
    this.#webSocket = options.webSocket;
    this.tokens = options.tokens ?? new MemoryTokenStore();
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#onSessionChange = options.onSessionChange;
    this.#refreshSkewMs = options.refreshSkewMs ?? 15_000;
  }

  get session(): Session | null {
    return this.tokens.load();
  }

  setSession(session: Session | null): void {
    this.tokens.save(session);
    this.#onSessionChange?.(session);
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    let qs = '';
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) params.set(k, String(v));
      const s = params.toString();
      if (s) qs = `?${s}`;
    }
    return `${this.baseUrl}${path}${qs}`;
  }

  /** ws:// or wss:// URL for a path on the same server (the realtime channel). */
  wsUrl(path: string, query?: Record<string, QueryValue>): string {
    const http = this.url(path, query);
    if (/^https?:/.test(http)) return http.replace(/^http/, 'ws');
    const loc = (globalThis as { location?: { protocol: string; host: string } }).location;
    if (!loc) throw new Error('wsUrl needs a baseUrl outside a browser');
    return `${loc.protocol === 'https:' ? 'wss:' : 'ws:'}//${loc.host}${http}`;
  }

  /** Opens a WebSocket to a path of the server (the global class unless one was given). */
  openWebSocket(path: string, query?: Record<string, QueryValue>): WebSocket {
    // The global is looked up only here: in Node, touching it loads undici (~4 MB kept loaded).
    const WS = this.#webSocket ?? globalThis.WebSocket;
    return new WS(this.wsUrl(path, query));
  }

  /** A JSON request; resolves to the parsed body (undefined for 204). */
  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const res = await this.request(method, path, options);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch (e) {
      throw new FerryApiError(res.status, 'BAD_RESPONSE', `invalid JSON from ${method} ${path}`, undefined, {
        cause: e,
      });
    }
  }

  /** Sends a request and resolves to the raw 2xx Response; throws FerryApiError otherwise. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    const auth = options.auth ?? true;
    const replayable = !(options.body instanceof ReadableStream);
    const idempotent = replayable && (options.idempotent ?? IDEMPOTENT_METHODS.has(method));
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = { accept: 'application/json', ...options.headers };
      let body: BodyInit | undefined;
      if (options.json !== undefined) {
        headers['content-type'] = 'application/json';
        body = JSON.stringify(options.json);
      } else if (options.body !== undefined) {
        body = options.body as BodyInit;
      }
      if (auth) headers.authorization = `Bearer ${await this.#accessToken()}`;
      let res: Response;
      try {
        const init: RequestInit & { duplex?: 'half' } = { method, headers, body, signal: options.signal };
        if (body instanceof ReadableStream) init.duplex = 'half';
        res = await this.#fetch(this.url(path, options.query), init);
      } catch (e) {
        if (isAbort(e)) throw e;
        if (idempotent && attempt < this.retry.retries) {
          await sleep(backoffDelay(attempt, this.retry), options.signal);
          continue;
        }
        throw new FerryApiError(
          0,
          'NETWORK_ERROR',
          `cannot reach the server: ${(e as Error).message}`,
          undefined,
          { cause: e },
        );
      }
      if (res.ok) return res;
      if (res.status === 401 && auth && !refreshed && this.session?.refreshToken) {
        await res.body?.cancel();
        refreshed = true;
        await this.refresh(true);
        attempt--; // the refresh retry does not count as a failure
        continue;
      }
      const retryable = res.status >= 500 || res.status === 429;
      if (retryable && idempotent && attempt < this.retry.retries) {
        await res.body?.cancel();
        const retryAfter = Number(res.headers.get('retry-after'));
        const wait =
          retryAfter > 0
            ? Math.min(retryAfter * 1000, this.retry.maxDelayMs)
            : backoffDelay(attempt, this.retry);
        await sleep(wait, options.signal);
        continue;
      }
      throw errorFromBody(res.status, await res.text().catch(() => ''), res.statusText);
    }
  }

  /**
   * Uploads a body with progress. Browsers use XMLHttpRequest (fetch has no upload progress over
   * HTTP/1.1); Node streams the bytes through fetch and counts them as they are pulled.
   */
  async upload<T>(req: UploadRequest): Promise<T> {
    let refreshed = false;
    for (let attempt = 0; ; attempt++) {
      let answer: RawAnswer;
      try {
        const token = await this.#accessToken();
        answer =
          typeof XMLHttpRequest !== 'undefined'
            ? await this.#xhrUpload(req, token)
            : await this.#fetchUpload(req, token);
      } catch (e) {
        if (isAbort(e) || e instanceof FerryApiError) throw e;
        // Re-uploading the same bytes to the same path is harmless, so uploads retry like idempotent calls.
        if (attempt < this.retry.retries) {
          await sleep(backoffDelay(attempt, this.retry), req.signal);
          continue;
        }
        throw new FerryApiError(0, 'NETWORK_ERROR', `upload failed: ${(e as Error).message}`, undefined, {
          cause: e,
        });
      }
      if (answer.status >= 200 && answer.status < 300)
        return (answer.text ? JSON.parse(answer.text) : undefined) as T;
      if (answer.status === 401 && !refreshed && this.session?.refreshToken) {
        refreshed = true;
        await this.refresh(true);
        attempt--;
        continue;
      }
      if ((answer.status >= 500 || answer.status === 429) && attempt < this.retry.retries) {
        await sleep(backoffDelay(attempt, this.retry), req.signal);
        continue;
      }
      throw errorFromBody(answer.status, answer.text, answer.statusText);
    }
  }

  #xhrUpload(req: UploadRequest, token: string): Promise<RawAnswer> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('POST', this.url(req.path, req.query));
      xhr.setRequestHeader('authorization', `Bearer ${token}`);
      xhr.setRequestHeader('accept', 'application/json');
      xhr.setRequestHeader('content-type', req.contentType || 'application/octet-stream');
      const total = req.body instanceof Blob ? req.body.size : req.body.byteLength;
      xhr.upload.onprogress = (ev) =>
        req.onProgress?.({ loaded: ev.loaded, total: ev.lengthComputable ? ev.total : total });
      xhr.onload = () => resolve({ status: xhr.status, statusText: xhr.statusText, text: xhr.responseText });
      xhr.onerror = () => reject(new TypeError('network error'));
      xhr.ontimeout = () => reject(new TypeError('timeout'));
      const onAbort = () => xhr.abort();
      xhr.onabort = () => reject(req.signal?.reason ?? new DOMException('aborted', 'AbortError'));
      if (req.signal?.aborted) return reject(req.signal.reason);
      req.signal?.addEventListener('abort', onAbort, { once: true });
      xhr.onloadend = () => req.signal?.removeEventListener('abort', onAbort);
      xhr.send(req.body instanceof Uint8Array ? new Blob([req.body as Uint8Array<ArrayBuffer>]) : req.body);
    });
  }

  async #fetchUpload(req: UploadRequest, token: string): Promise<RawAnswer> {
    const bytes =
      req.body instanceof Blob
        ? new Uint8Array(await req.body.arrayBuffer())
        : req.body instanceof Uint8Array
          ? req.body
          : new Uint8Array(req.body);
    const total = bytes.byteLength;
    let body: BodyInit = bytes as Uint8Array<ArrayBuffer>;
    if (req.onProgress) {
      const step = 64 * 1024;
      let offset = 0;
      const onProgress = req.onProgress;
      body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (offset >= total) {
            controller.close();
            return;
          }
          const end = Math.min(total, offset + step);
          controller.enqueue(bytes.subarray(offset, end));
          offset = end;
          onProgress({ loaded: offset, total });
        },
      }) as BodyInit;
    }
    const init: RequestInit & { duplex?: 'half' } = {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        accept: 'application/json',
        'content-type': req.contentType || 'application/octet-stream',
        'content-length': String(total),
      },
      body,
      signal: req.signal,
    };
    if (body instanceof ReadableStream) init.duplex = 'half';
    const res = await this.#fetch(this.url(req.path, req.query), init);
    return { status: res.status, statusText: res.statusText, text: await res.text() };
  }

  /** An access token that is valid for at least refreshSkewMs, refreshing first if needed. */
  async #accessToken(): Promise<string> {
    const s = this.session;
    if (!s) throw new FerryApiError(401, 'NOT_SIGNED_IN', 'not signed in');
    if (s.accessExpiresAt - Date.now() > this.#refreshSkewMs) return s.accessToken;
    return (await this.refresh()).accessToken;
  }

  /**
   * Exchanges the refresh token for a new pair. Concurrent callers share one request: the server
   * rotates refresh tokens and treats a replayed one as theft, so two parallel refreshes would log
   * the device out. Across browser tabs a Web Lock serializes refreshes, and a tab that finds a newer
   * session in the shared store adopts it instead of refreshing again.
   */
  refresh(force = false): Promise<Session> {
    if (!this.#refreshing) {
      const before = this.session;
      this.#refreshing = this.#withLock(() => this.#doRefresh(before, force)).finally(() => {
        this.#refreshing = null;
      });
    }
    return this.#refreshing;
  }

  async #doRefresh(before: Session | null, force: boolean): Promise<Session> {
    const current = this.session;
    if (!current) throw new FerryApiError(401, 'NOT_SIGNED_IN', 'not signed in');
    // Another tab (or an earlier flight) already rotated the pair: use its result.
    if (before && current.refreshToken !== before.refreshToken) return current;
    if (!force && current.accessExpiresAt - Date.now() > this.#refreshSkewMs) return current;
    let res: Response;
    try {
      res = await this.#fetch(this.url('/api/v1/auth/refresh'), {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify({ refreshToken: current.refreshToken }),
      });
    } catch (e) {
      throw new FerryApiError(
        0,
        'NETWORK_ERROR',
        `cannot reach the server: ${(e as Error).message}`,
        undefined,
        { cause: e },
      );
    }
    const text = await res.text();
    if (!res.ok) {
      const err = errorFromBody(res.status, text, res.statusText);
      // The refresh token is dead (expired, revoked, reused): the session is over.
      if (res.status === 401 || res.status === 403) this.setSession(null);
      throw err;
    }
    const next = sessionFromLogin(JSON.parse(text) as LoginResult);
    this.setSession(next);
    return next;
  }

  async #withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = (
      globalThis as { navigator?: { locks?: { request(name: string, cb: () => Promise<T>): Promise<T> } } }
    ).navigator?.locks;
    return locks ? locks.request('ferry-token-refresh', fn) : fn();
  }
}
