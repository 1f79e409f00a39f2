// Route: the caller's devices with how each one syncs (latest sync from memory, failure streak).
// A superset of the foundation's device listing, which the web app reads.

import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { caller } from '../http/auth-hook.ts';
import { errors } from '../http/schemas.ts';
import type { TelemetryService } from './telemetry-service.ts';
import { LastSync, lastSyncOut } from './telemetry-schemas.ts';

const DeviceBody = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    kind: Type.String(),
    createdAt: Type.Integer(),
    lastSeenAt: Type.Union([Type.Integer(), Type.Null()]),
    revokedAt: Type.Union([Type.Integer(), Type.Null()]),
    current: Type.Boolean(),
    lastSync: LastSync,
    lastSyncStatus: Type.Union([Type.String(), Type.Null()]),
    consecutiveFailures: Type.Integer(),
  },
  { additionalProperties: true },
);

export function devicesRoutes({ telemetry }: { telemetry: TelemetryService }): FastifyPluginAsync {
  return async (fastify) => {
    const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
    app.get(
      '/api/v1/devices',
      {
        schema: {
          tags: ['devices'],
          summary: "The caller's devices, with each one's latest sync and failure streak",
          response: { 200: Type.Object({ devices: Type.Array(DeviceBody) }), ...errors(401) },
        },
      },
      async (request) => {
        const me = caller(request);
        const rows = await telemetry.devicesOf(me.userId);
        return {
          devices: rows.map(({ device: d, latest }) => ({
            id: d.id,
            name: d.name,
            kind: d.kind,
            createdAt: d.createdAt,
            lastSeenAt: d.lastSeenAt,
            revokedAt: d.revokedAt,
            current: d.id === me.deviceId,
            lastSync: lastSyncOut(latest),
            lastSyncStatus: latest?.status ?? null,
            consecutiveFailures: d.consecutiveFailures,
          })),
        };
      },
    );
  };
}
