// Builds the Ferry server: stores from configuration, services, and the Fastify app with its
// plugins and routes. `startServer` adds the first-start admin, listening and graceful shutdown.

import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { mkdir } from 'node:fs/promises';
import type { ServerConfig } from './config.ts';
import { openMetaStore } from './store/meta/sql-meta-store.ts';
import type { MetaStore } from './store/meta/meta-store.ts';
import type { ChunkStore } from './store/chunks/chunk-store.ts';
import { openLocalChunkStore } from './store/chunks/local-chunk-store.ts';
import { MemoryNotifier, type Notifier } from './store/notify/notifier.ts';
import { syncPlugin } from './sync/sync-plugin.ts';
import { AuthService } from './auth/auth-service.ts';
import { LoginThrottle } from './auth/login-throttle.ts';
import { TokenSigner, loadOrCreateSecret } from './auth/token-signer.ts';
import { authRoutes } from './auth/auth-routes.ts';
import { SpacesService } from './spaces/spaces-service.ts';
import { spacesRoutes } from './spaces/spaces-routes.ts';
import { ContentService } from './content/content-service.ts';
import { FilesService } from './files/files-service.ts';
import { filesRoutes } from './files/files-routes.ts';
import { transferRoutes } from './files/transfer-routes.ts';
import { installErrorHandler, errorBody } from './http/error-handler.ts';
import { installAuthHook } from './http/auth-hook.ts';
import { createMetrics, installRequestMetrics } from './http/metrics.ts';
import { opsRoutes } from './http/ops-routes.ts';
import { ErrorBody, FileInfo, VersionInfo } from './http/schemas.ts';
import { webRoutes } from './http/web-routes.ts';
import { sharesRoutes } from './shares/shares-routes.ts';
import { EventBus } from './events/event-bus.ts';
import { TelemetryService } from './devices/telemetry-service.ts';
import { IngestTokenService } from './devices/ingest-tokens.ts';
import { telemetryRoutes } from './devices/telemetry-routes.ts';
import { devicesRoutes } from './devices/devices-routes.ts';
import { GarminService } from './garmin/garmin-service.ts';
import { garminRoutes } from './garmin/garmin-routes.ts';

export interface Stores {
  meta: MetaStore;
  chunks: ChunkStore;
  notifier: Notifier;
}

export interface Services {
  auth: AuthService;
  spaces: SpacesService;
  content: ContentService;
  files: FilesService;
}

export interface FerryServer {
  app: FastifyInstance;
  config: ServerConfig;
  stores: Stores;
  services: Services;
  /** Fleet telemetry (its ingest queue drains in close()). */
  telemetry: TelemetryService;
  /** In-process domain events (device.failing, …). */
  events: EventBus;
  /** Stops accepting requests, lets in-flight ones finish, closes the stores. */
  close(): Promise<void>;
}

export async function openStores(config: ServerConfig): Promise<Stores> {
  await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
  const meta = await openMetaStore(config.databaseUrl, {
    // Before the logger exists; a data migration of a big database can take a minute.
    onUpgrade: (m) =>
      process.stdout.write(`ferry: upgrading the database: migration ${m.version} (${m.name})…\n`),
  });
  const chunks = await openLocalChunkStore(join(config.dataDir, 'chunks'));
  return { meta, chunks, notifier: await openNotifier(config.databaseUrl) };
}

/** In-process by default; PostgreSQL LISTEN/NOTIFY when the metadata is in PostgreSQL (several instances). */
async function openNotifier(databaseUrl: string): Promise<Notifier> {
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) return new MemoryNotifier();
  const { PgNotifier } = await import('./store/notify/pg-notifier.ts');
  const notifier = new PgNotifier(databaseUrl);
  await notifier.start();
  return notifier;
}

export async function createFerryServer(config: ServerConfig, stores?: Stores): Promise<FerryServer> {
  const s = stores ?? (await openStores(config));
  const secret = await loadOrCreateSecret(join(config.dataDir, 'jwt-secret'), config.jwtSecret);
  const auth = new AuthService({
    meta: s.meta,
    signer: new TokenSigner(secret, config.accessTokenTtl),
    throttle: new LoginThrottle(config.loginMaxFailures),
    refreshTokenTtl: config.refreshTokenTtl,
    defaultQuotaBytes: config.defaultQuotaBytes,
  });
  const spaces = new SpacesService({ meta: s.meta });
  const content = new ContentService({ meta: s.meta, chunks: s.chunks });
  const files = new FilesService({
    meta: s.meta,
    content,
    notifier: s.notifier,
    maxUploadBytes: config.maxUploadBytes,
  });
  const services: Services = { auth, spaces, content, files };

  const app = Fastify({
    logger: {
      level: config.logLevel,
      redact: ['req.headers.authorization', 'req.headers.cookie'],
      ...(config.logStream ? { stream: config.logStream } : {}),
    },
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    trustProxy: config.trustProxy,
    bodyLimit: 1024 * 1024,
    forceCloseConnections: false,
    return503OnClosing: true,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false },
    },
  });
  let closing = false;
  app.addHook('onRequest', async (request, reply) => {
    void reply.header('x-request-id', request.id);
  });
  app.addSchema(ErrorBody);
  app.addSchema(FileInfo);
  app.addSchema(VersionInfo);
  await app.register(swagger, {
    openapi: {
      info: { title: 'Ferry API', version: '1', description: 'Self-hosted, offline-first sync and storage' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
      security: [{ bearer: [] }],
    },
    refResolver: {
      buildLocalReference: (json, _baseUri, _fragment, i) =>
        typeof json.$id === 'string' ? json.$id : `def-${i}`,
    },
  });
  // The docs UI is public, like the OpenAPI document it shows.
  app.addHook('onRoute', (route) => {
    if (route.url.startsWith('/api/docs')) route.config = { ...(route.config as object), auth: 'public' };
  });
  await app.register(swaggerUi, { routePrefix: '/api/docs', uiConfig: { deepLinking: true } });

  installErrorHandler(app);
  installAuthHook(app, auth);
  const registry = createMetrics(s.meta, { storageTtlMs: config.metricsStorageTtl * 1000 });
  installRequestMetrics(app, registry);

  await app.register(opsRoutes({ meta: s.meta, registry, isClosing: () => closing }));
  await app.register(authRoutes({ auth, meta: s.meta, openRegistration: config.openRegistration }));
  await app.register(spacesRoutes({ spaces }));
  await app.register(filesRoutes({ files, spaces }));
  await app.register(transferRoutes({ files, spaces, content, maxUploadBytes: config.maxUploadBytes }));
  const events = new EventBus({
    onError: (err, type) => app.log.error({ err, type }, 'a domain event listener failed'),
  });
  await app.register(
    syncPlugin({
      meta: s.meta,
      chunks: s.chunks,
      notifier: s.notifier,
      auth,
      spaces,
      onConflict: (c) => events.emit('conflict.detected', { ...c, at: Date.now() }),
    }),
  );
  const telemetry = new TelemetryService({
    meta: s.meta,
    bus: events,
    log: app.log.child({ component: 'telemetry' }),
    registry,
    queueBytes: config.telemetryQueueBytes,
    retentionDays: config.syncEventRetentionDays,
  });
  await app.register(telemetryRoutes({ telemetry, tokens: new IngestTokenService({ meta: s.meta }), auth }));
  await app.register(devicesRoutes({ telemetry }));
  await app.register(
    garminRoutes({ garmin: new GarminService({ files, folder: config.garminFolder }), spaces, content }),
  );
  await app.register(sharesRoutes({ meta: s.meta, files, spaces, content }));
  await app.register(webRoutes());
  telemetry.start();

  app.setNotFoundHandler((request, reply) =>
    reply.status(404).send(errorBody('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`)),
  );

  return {
    app,
    config,
    stores: s,
    services,
    telemetry,
    events,
    async close() {
      closing = true;
      await app.close();
      await telemetry.close();
      await s.notifier.close();
      await s.chunks.close?.();
      await s.meta.close();
    },
  };
}
