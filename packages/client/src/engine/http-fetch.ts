// A fetch for Node processes (the CLI and the daemon) on node:http and node:https with keep-alive.
// Node's built-in fetch copies every request body and passes it through web streams: for the sync
// protocol's 8 MiB chunk bodies that cost the CLI about as much CPU as hashing and compressing them.
// Here a byte body is written to the socket as is. Responses are real `Response`s, so the transport
// (and every caller) sees the same API as with the built-in fetch in Node and in browsers.

import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

// Idle keep-alive sockets are unref'd by the agents, so they never hold a finished process open.
const agents = {
  'http:': new http.Agent({ keepAlive: true }),
  'https:': new https.Agent({ keepAlive: true }),
};

const nodeFetch = ((input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
  if (input instanceof Request) return fetch(input, init); // not used by our transport
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
      const headers = new Headers();
      for (let i = 0; i < res.rawHeaders.length; i += 2)
        headers.append(res.rawHeaders[i], res.rawHeaders[i + 1]);
      const status = res.statusCode ?? 0;
      if (NULL_BODY.has(status) || init.method === 'HEAD') res.resume();
      const body = NULL_BODY.has(status) || init.method === 'HEAD' ? null : coalesced(res);
      resolve(new Response(body, { status, statusText: res.statusMessage, headers }));
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
function coalesced(res: http.IncomingMessage, pieceBytes = 1024 * 1024): ReadableStream<Uint8Array> {
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

function writeBody(req: http.ClientRequest, body: RequestInit['body'] | Uint8Array[]): void {
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
  if (h instanceof Headers) return Object.fromEntries(h.entries());
  if (Array.isArray(h)) return Object.fromEntries(h);
  return h;
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error
    ? signal.reason
    : new DOMException('This operation was aborted', 'AbortError');
}
