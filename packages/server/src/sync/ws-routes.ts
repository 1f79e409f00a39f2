// The realtime channel: GET /api/v1/ws. A device subscribes to spaces (role-checked) and is told
// `space.advanced` within milliseconds of every commit there (through the Notifier, so across
// server instances too). A ping every 30 s keeps proxies from closing the socket; at each ping the
// token, device and memberships are checked again, so a revoked device is cut off.

import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import websocket from '@fastify/websocket';
import { Type } from '@sinclair/typebox';
import { FerryError } from '@ferry/core/errors';
import type { AuthContext, AuthService } from '../auth/auth-service.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Notifier } from '../store/notify/notifier.ts';
import { bearerToken, caller } from '../http/auth-hook.ts';

export interface WsDeps {
  auth: AuthService;
  spaces: SpacesService;
  meta: MetaStore;
  notifier: Notifier;
  /** Keep-alive and re-check interval in ms. Default 30 s. */
  pingMs?: number;
}

/** Close codes: the token expired or is invalid / the device was revoked. */
export const WS_CLOSE_UNAUTHORIZED = 4401;
export const WS_CLOSE_REVOKED = 4403;

type ClientMessage =
  | { type: 'subscribe' | 'unsubscribe'; spaces?: unknown }
  | { type: 'auth'; token?: unknown }
  | { type: 'pong' };

class Connection {
  readonly #socket: WebSocket;
  readonly #d: WsDeps;
  #auth: AuthContext;
  #token: string;
  readonly #subs = new Map<string, () => void>();

  constructor(socket: WebSocket, d: WsDeps, auth: AuthContext, token: string) {
    this.#socket = socket;
    this.#d = d;
    this.#auth = auth;
    this.#token = token;
  }

  send(msg: Record<string, unknown>): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(msg));
  }

  async onMessage(raw: string): Promise<void> {
    let msg: ClientMessage;
    try {
      msg = JSON.parse(raw) as ClientMessage;
    } catch {
      return this.send({ type: 'error', code: 'BAD_REQUEST', message: 'messages are JSON objects' });
    }
    if (msg.type === 'subscribe' || msg.type === 'unsubscribe') {
      const refs = Array.isArray(msg.spaces)
        ? msg.spaces.filter((s): s is string => typeof s === 'string').slice(0, 1000)
        : [];
      if (msg.type === 'unsubscribe') {
        // By id, as `subscribed` reported it.
        for (const id of refs) {
          this.#subs.get(id)?.();
          this.#subs.delete(id);
        }
        return;
      }
      const ok: { space: string; name: string; seq: number }[] = [];
      for (const ref of refs) {
        try {
          const space = await this.#d.spaces.resolve(this.#auth, ref, 'read');
          if (!this.#subs.has(space.id)) {
            this.#subs.set(
              space.id,
              this.#d.notifier.subscribe(space.id, (id, seq) =>
                this.send({ type: 'space.advanced', space: id, seq }),
              ),
            );
          }
          ok.push({ space: space.id, name: space.name, seq: space.headSeq });
        } catch (e) {
          const err = e instanceof FerryError ? e : new FerryError('INTERNAL', 'subscribe failed');
          this.send({ type: 'error', code: err.code, message: err.message, space: ref });
        }
      }
      return this.send({ type: 'subscribed', spaces: ok });
    }
    if (msg.type === 'auth') {
      try {
        const next = await this.#d.auth.authenticate(String(msg.token));
        if (next.userId !== this.#auth.userId)
          throw new FerryError('UNAUTHORIZED', 'a socket stays with one user');
        this.#auth = next;
        this.#token = String(msg.token);
        return this.send({ type: 'authenticated' });
      } catch (e) {
        return this.send({
          type: 'error',
          code: e instanceof FerryError ? e.code : 'UNAUTHORIZED',
          message: 'token refused',
        });
      }
    }
    if (msg.type === 'pong') return;
    this.send({ type: 'error', code: 'BAD_REQUEST', message: 'unknown message type' });
  }

  /** Keep-alive plus re-check of token, device and memberships. */
  async check(): Promise<void> {
    const device = await this.#d.meta.devices.byId(this.#auth.deviceId);
    if (!device || device.revokedAt !== null) return this.#socket.close(WS_CLOSE_REVOKED, 'device revoked');
    try {
      this.#auth = await this.#d.auth.authenticate(this.#token);
    } catch {
      return this.#socket.close(WS_CLOSE_UNAUTHORIZED, 'token expired or revoked');
    }
    for (const [id, off] of this.#subs) {
      try {
        await this.#d.spaces.resolve(this.#auth, id, 'read');
      } catch {
        off();
        this.#subs.delete(id);
        this.send({ type: 'unsubscribed', space: id, reason: 'no longer a member' });
      }
    }
    this.send({ type: 'ping' });
  }

  close(): void {
    for (const off of this.#subs.values()) off();
    this.#subs.clear();
  }
}

export function wsRoutes(d: WsDeps): FastifyPluginAsync {
  return async (fastify) => {
    await fastify.register(websocket, { options: { maxPayload: 64 * 1024 } });
    fastify.get(
      '/api/v1/ws',
      {
        websocket: true,
        schema: {
          tags: ['sync'],
          summary:
            'Realtime channel (WebSocket): subscribe to spaces, get space.advanced {space, seq} on every commit',
          description:
            'Auth with the Authorization header or ?token=. See docs/sync-protocol.md for the messages.',
          querystring: Type.Object(
            { token: Type.Optional(Type.String({ maxLength: 4096 })) },
            { additionalProperties: false },
          ),
        },
      },
      (socket, request) => {
        const token = bearerToken(request) ?? (request.query as { token: string }).token;
        const conn = new Connection(socket, d, caller(request), token);
        let checking = false;
        const timer = setInterval(() => {
          if (checking) return;
          checking = true;
          conn
            .check()
            .catch((err: unknown) => request.log.warn({ err }, 'websocket check failed'))
            .finally(() => (checking = false));
        }, d.pingMs ?? 30_000);
        // Messages are handled one at a time, in order.
        let queue = Promise.resolve();
        socket.on('message', (data: Buffer, isBinary: boolean) => {
          if (isBinary) return conn.send({ type: 'error', code: 'BAD_REQUEST', message: 'text frames only' });
          queue = queue
            .then(() => conn.onMessage(data.toString('utf8')))
            .catch((err: unknown) => request.log.warn({ err }, 'websocket message failed'));
        });
        socket.on('close', () => {
          clearInterval(timer);
          conn.close();
        });
      },
    );
  };
}
