// Routes: sync event ingest (API and the seed's routes), sync history, repeated failures, device
// summaries, fleet ingest tokens (admin). Ingest authenticates access tokens and ingest tokens
// itself, because ingest tokens are valid nowhere else.

import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { FerryError } from '@ferry/core/errors';
import { bearerToken, caller } from '../http/auth-hook.ts';
import { Strict, errors } from '../http/schemas.ts';
import { errorBody } from '../http/error-handler.ts';
import type { AuthService } from '../auth/auth-service.ts';
import { INGEST_TOKEN_PREFIX, type IngestTokenService } from './ingest-tokens.ts';
import type { Reporter, SyncEventInput, TelemetryService } from './telemetry-service.ts';
import {
  Accepted,
  FailingDevice,
  History,
  Summary,
  SyncEventIn,
  failingOut,
  summaryOut,
  syncEventOut,
} from './telemetry-schemas.ts';

export interface TelemetryRoutesDeps {
  telemetry: TelemetryService;
  tokens: IngestTokenService;
  auth: AuthService;
}

const DeviceId = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) });
const HistoryQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 50 })),
    cursor: Type.Optional(Type.String({ maxLength: 100 })),
  },
  { additionalProperties: false },
);
const FailuresQuery = Type.Object(
  {
    min: Type.Optional(
      Type.Integer({ minimum: 1, description: 'Least failures in a row; default 4 (more than 3)' }),
    ),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 100 })),
    offset: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, default: 0 })),
  },
  { additionalProperties: false },
);
const Failures = Type.Object({ devices: Type.Array(FailingDevice) });
const TokenBody = Type.Object({
  id: Type.String(),
  name: Type.String(),
  createdAt: Type.Integer(),
  lastUsedAt: Type.Union([Type.Integer(), Type.Null()]),
  revokedAt: Type.Union([Type.Integer(), Type.Null()]),
});

export function telemetryRoutes(d: TelemetryRoutesDeps): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    const reporters = new WeakMap<FastifyRequest, Reporter>();

    // Before the body is parsed, so a bad token is a 401 whatever the body holds. Callback style
    // rather than async: fleet ingest is thousands of requests a second, each saves a promise.
    const authenticate = (request: FastifyRequest, _reply: FastifyReply, done: (e?: Error) => void) => {
      const token = bearerToken(request);
      if (!token)
        return done(
          new FerryError('UNAUTHORIZED', 'missing bearer token (an access token or a fleet ingest token)'),
        );
      const reporter: Promise<Reporter> = token.startsWith(INGEST_TOKEN_PREFIX)
        ? d.tokens.verify(token).then((t) => ({ kind: 'fleet', tokenId: t.id }))
        : d.auth.authenticate(token).then((c) => {
            request.auth = c;
            return { kind: 'device', userId: c.userId, deviceId: c.deviceId, role: c.role };
          });
      reporter.then((r) => {
        reporters.set(request, r);
        done();
      }, done);
    };
    // A full queue is back-pressure the clients are told to expect (503 + Retry-After), not a
    // server fault: answered here rather than by the error handler, which logs every 5xx with its
    // stack (tens of thousands of lines a second under overload, and the memory to buffer them).
    const ingest = async (request: FastifyRequest, reply: FastifyReply, events: SyncEventInput[]) => {
      try {
        return reply.status(202).send(await d.telemetry.ingest(reporters.get(request)!, events));
      } catch (e) {
        if (!(e instanceof FerryError) || e.code !== 'UNAVAILABLE') throw e;
        return reply
          .status(503)
          .header('retry-after', String(typeof e.details?.retryAfter === 'number' ? e.details.retryAfter : 1))
          .send(errorBody(e.code, e.message, e.details));
      }
    };

    app.post(
      '/api/v1/sync-events',
      {
        config: { auth: 'public' },
        onRequest: authenticate,
        // One event or an array of them; validated as an array.
        preValidation: (request, _reply, done) => {
          if (request.body !== null && typeof request.body === 'object' && !Array.isArray(request.body))
            request.body = [request.body];
          done();
        },
        schema: {
          tags: ['devices'],
          summary: 'Report sync runs: one event or an array of up to 1000',
          description:
            'Authenticated by a device access token (a device reports for itself; admins for any device) or a fleet ingest token (any device). ' +
            'Events are queued and written in batches; 503 with Retry-After when the queue is full.',
          security: [{ bearer: [] }],
          body: Type.Array(SyncEventIn),
          response: { 202: Accepted, ...errors(400, 401, 403, 404, 413, 503) },
        },
      },
      async (request, reply) => ingest(request, reply, request.body as SyncEventInput[]),
    );

    app.post(
      '/sync-event',
      {
        config: { auth: 'public' },
        onRequest: authenticate,
        schema: {
          tags: ['devices'],
          summary: 'Report one sync run (seed route)',
          security: [{ bearer: [] }],
          body: SyncEventIn,
          response: { 202: Accepted, ...errors(400, 401, 403, 404, 503) },
        },
      },
      async (request, reply) => ingest(request, reply, [request.body as SyncEventInput]),
    );

    for (const url of ['/api/v1/devices/:id/sync-history', '/device/:id/sync-history']) {
      app.get(
        url,
        {
          schema: {
            tags: ['devices'],
            summary: 'Sync history of a device, newest first (default 50)',
            params: DeviceId,
            querystring: HistoryQuery,
            response: { 200: History, ...errors(400, 401, 404) },
          },
        },
        async (request) => {
          const { id } = request.params;
          const page = await d.telemetry.history(caller(request), id, {
            limit: request.query.limit ?? 50,
            cursor: request.query.cursor,
          });
          return { device_id: id, events: page.events.map(syncEventOut), cursor: page.cursor };
        },
      );
    }

    for (const url of ['/api/v1/devices/repeated-failures', '/devices/repeated-failures']) {
      app.get(
        url,
        {
          schema: {
            tags: ['devices'],
            summary:
              'Devices whose latest syncs failed more than 3 times in a row (admins: every device; others: their own)',
            querystring: FailuresQuery,
            response: { 200: Failures, ...errors(400, 401) },
          },
        },
        async (request) => {
          const q = request.query;
          const rows = await d.telemetry.repeatedFailures(caller(request), {
            min: q.min,
            limit: q.limit ?? 100,
            offset: q.offset ?? 0,
          });
          return { devices: rows.map(failingOut) };
        },
      );
    }

    app.get(
      '/api/v1/devices/:id/summary',
      {
        schema: {
          tags: ['devices'],
          summary: 'Sync totals of a device: success rate, average speed, failures',
          params: DeviceId,
          response: { 200: Summary, ...errors(401, 404) },
        },
      },
      async (request) => {
        const me = caller(request);
        const { id } = request.params;
        const state = await d.telemetry.summary(me, id);
        const latest = await d.telemetry.latest([{ id, userId: me.userId }]);
        return summaryOut(id, state, latest.get(id) ?? null);
      },
    );

    app.post(
      '/api/v1/admin/ingest-tokens',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Create a fleet ingest token (it may only post sync events); the token is shown once',
          body: Strict({ name: Type.String({ minLength: 1, maxLength: 128 }) }),
          response: {
            201: Type.Composite([TokenBody, Type.Object({ token: Type.String() })]),
            ...errors(400, 401, 403),
          },
        },
      },
      async (request, reply) => {
        const t = await d.tokens.create(caller(request).userId, request.body.name);
        return reply.status(201).send(t);
      },
    );

    app.get(
      '/api/v1/admin/ingest-tokens',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Fleet ingest tokens (without secrets)',
          response: { 200: Type.Object({ tokens: Type.Array(TokenBody) }), ...errors(401, 403) },
        },
      },
      async () => ({ tokens: await d.tokens.list() }),
    );

    app.delete(
      '/api/v1/admin/ingest-tokens/:id',
      {
        config: { auth: 'admin' },
        schema: {
          tags: ['admin'],
          summary: 'Revoke a fleet ingest token',
          params: DeviceId,
          response: { 204: Type.Null(), ...errors(401, 403, 404) },
        },
      },
      async (request, reply) => {
        await d.tokens.revoke(request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
