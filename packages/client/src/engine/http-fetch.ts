// A fetch for Node processes (the CLI and the daemon) on node:http and node:https with keep-alive.
// Node's built-in fetch copies every request body and passes it through web streams: for the sync
// protocol's 8 MiB chunk bodies that cost the CLI about as much CPU as hashing and compressing them.
// Here a byte body is written to the socket as is. The answer is a `Response` as far as the
// transport and its callers use one (status, ok, headers.get, text, json, arrayBuffer, blob, body
// as a web stream), built without undici, where Node's own fetch, Response and Headers live: the
// idle daemon kept it loaded, ~4 MB. For the same reason node:http and node:https come from
// process.getBuiltinModule: an ESM import of node:http reads all of its exports, and one of them is
// a getter that loads undici.

import { Readable } from 'node:stream';

const http = process.getBuiltinModule('node:http');
const https = process.getBuiltinModule('node:https');
type IncomingMessage = import('node:http').IncomingMessage;
type ClientRequest = import('node:http').ClientRequest;

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

// Idle keep-alive sockets are unref'd by the agents, so they never hold a finished process open.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

const nodeFetch = ((input: string | URL, init: RequestInit = {}): Promise<Response> => {
  const url = new URL(input);
  const signal = init.signal ?? undefined;
  return new Promise<Response>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const lib = url.protocol === 'https:' ? https : url.protocol === 'http:' ? http : undefined;
    if (!lib) return reject(new TypeError(`unsupported protocol ${url.protocol}`));
    const req = lib.request(url, {
      method: init.method ?? 'GET',
      headers: headerRecord(init.headers),
      agent: agents[url.protocol as 'http:' | 'https:'],
    });
    const onAbort = () => req.destroy(abortReason(signal!));
    signal?.addEventListener('abort', onAbort, { once: true });
    req.once('error', (e) => {
      signal?.removeEventListener('abort', onAbort);
      reject(signal?.aborted ? abortReason(signal) : new TypeError('fetch failed', { cause: e }));
    });
    req.once('response', (res) => {
      res.once('close', () => signal?.removeEventListener('abort', onAbort));
      const status = res.statusCode ?? 0;
      if (NULL_BODY.has(status) || init.method === 'HEAD') res.resume();
      const body = NULL_BODY.has(status) || init.method === 'HEAD' ? null : coalesced(res);
      resolve(new NodeResponse(status, res.statusMessage ?? '', res.headers, body) as unknown as Response);
    });
    writeBody(req, init.body);
  });
}) as typeof fetch;

/** The fetch; it also takes a body of byte parts (an array of Uint8Array), written without a join. */
export const httpFetch = Object.assign(nodeFetch, { takesByteParts: true });

/**
 * The response body as a web stream of pieces of about 1 MiB: socket reads are 64 KiB, and every
 * piece a web stream carries costs a few promises and a copy when the reader collects it (an 8 MiB
 * chunk batch was ~130 pieces; `Readable.toWeb` cost ~1.2 s of a 302 MiB download's CPU).
 */
function coalesced(res: IncomingMessage, pieceBytes = 1024 * 1024): ReadableStream<Uint8Array> {
  let parts: Buffer[] = [];
  let bytes = 0;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        const flush = () => {
          if (bytes === 0) return;
          controller.enqueue(parts.length === 1 ? parts[0] : Buffer.concat(parts, bytes));
          parts = [];
          bytes = 0;
        };
        const fail = (e: Error) => {
          if (done) return;
          done = true;
          controller.error(e);
        };
        res.on('data', (d: Buffer) => {
          if (done) return;
          parts.push(d);
          bytes += d.length;
          if (bytes < pieceBytes) return;
          flush();
          if ((controller.desiredSize ?? 1) <= 0) res.pause();
        });
        res.once('end', () => {
          if (done) return;
          done = true;
          flush();
          controller.close();
        });
        res.once('error', fail);
        res.once('close', () => {
          if (!res.complete) fail(new TypeError('the response was cut off'));
        });
      },
      pull() {
        res.resume();
      },
      cancel() {
        done = true;
        // A small unread answer (an upload's JSON reply) is drained so the keep-alive socket stays
        // usable; a big one is cut off.
        if (Number(res.headers['content-length'] ?? Infinity) <= 64 * 1024) res.resume();
        else res.destroy();
      },
    },
    { highWaterMark: 2 },
  );
}

function writeBody(req: ClientRequest, body: RequestInit['body'] | Uint8Array[]): void {
  if (body === undefined || body === null) return void req.end();
  if (Array.isArray(body)) {
    req.setHeader(
      'content-length',
      body.reduce((n, p) => n + p.length, 0),
    );
    // Corked: the parts leave in one writev instead of a syscall each.
    req.cork();
    for (const p of body) req.write(p);
    req.uncork();
    return void req.end();
  }
  if (typeof body === 'string' || body instanceof Uint8Array) return void req.end(body);
  if (body instanceof ArrayBuffer) return void req.end(new Uint8Array(body));
  if (body instanceof ReadableStream) {
    Readable.fromWeb(body as import('node:stream/web').ReadableStream).pipe(req);
    return;
  }
  req.destroy(new TypeError('unsupported request body type'));
}

function headerRecord(h: HeadersInit | undefined): Record<string, string> {
  if (!h) return {};
  if (Array.isArray(h)) return Object.fromEntries(h);
  // A Headers object, recognised without touching the global (which would load undici).
  const entries = (h as { entries?: () => IterableIterator<[string, string]> }).entries;
  if (typeof entries === 'function') return Object.fromEntries(entries.call(h));
  return h as Record<string, string>;
}

/** The read side of Headers over node's parsed response headers (names are lowercase there). */
class NodeHeaders {
  readonly #h: IncomingMessage['headers'];
  constructor(h: IncomingMessage['headers']) {
    this.#h = h;
  }
  get(name: string): string | null {
    const v = this.#h[name.toLowerCase()];
    return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
  }
  has(name: string): boolean {
    return this.#h[name.toLowerCase()] !== undefined;
  }
  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.#h).sort()) yield [name, this.get(name)!];
  }
  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }
  forEach(fn: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) fn(value, name);
  }
}

/** The part of Response the transport and its callers use; a body is read once. */
class NodeResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: NodeHeaders;
  readonly body: ReadableStream<Uint8Array> | null;
  #used = false;

  constructor(
    status: number,
    statusText: string,
    headers: IncomingMessage['headers'],
    body: ReadableStream<Uint8Array> | null,
  ) {
    this.status = status;
    this.statusText = statusText;
    this.headers = new NodeHeaders(headers);
    this.body = body;
  }
  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
  get bodyUsed(): boolean {
    return this.#used || (this.body?.locked ?? false);
  }
  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }
  async bytes(): Promise<Uint8Array> {
    if (this.bodyUsed) throw new TypeError('the body has already been read');
    this.#used = true;
    if (!this.body) return new Uint8Array(0);
    const parts: Uint8Array[] = [];
    for await (const part of this.body as unknown as AsyncIterable<Uint8Array>) parts.push(part);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }
  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }
  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
  async blob(): Promise<Blob> {
    const bytes = (await this.bytes()) as Uint8Array<ArrayBuffer>;
    return new Blob([bytes], { type: this.headers.get('content-type') ?? '' });
  }
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
