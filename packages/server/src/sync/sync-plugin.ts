// Wires the sync protocol: its services over the stores, its routes (protocol, seed-compatible,
// WebSocket), and shutdown of held long-polls. app.ts registers this one plugin.

import type { FastifyPluginAsync } from 'fastify';
import type { AuthService } from '../auth/auth-service.ts';
import type { SpacesService } from '../spaces/spaces-service.ts';
import type { ChunkStore } from '../store/chunks/chunk-store.ts';
import type { MetaStore } from '../store/meta/meta-store.ts';
import type { Notifier } from '../store/notify/notifier.ts';
import { ChunkService } from './chunk-service.ts';
import { CommitService, type ConflictEvent } from './commit-service.ts';
import { ChangeFeed } from './change-feed.ts';
import { ManifestService } from './manifest-service.ts';
import { ChunkVisibility } from './chunk-visibility.ts';
import { syncRoutes } from './sync-routes.ts';
import { seedSyncRoutes } from './seed-routes.ts';
import { wsRoutes } from './ws-routes.ts';

export interface SyncPluginOptions {
  meta: MetaStore;
  chunks: ChunkStore;
  notifier: Notifier;
  auth: AuthService;
  spaces: SpacesService;
  /** Largest body of one chunk upload request. Default 1 GiB. */
  maxChunkUploadBytes?: number;
  /** WebSocket keep-alive / re-check interval in ms. Default 30 s. */
  wsPingMs?: number;
  /** Called after a commit that kept both sides of a conflict (`conflict.detected`). */
  onConflict?: (e: ConflictEvent) => void;
}

export function syncPlugin(o: SyncPluginOptions): FastifyPluginAsync {
  return async (fastify) => {
    const feed = new ChangeFeed({
      meta: o.meta,
      notifier: o.notifier,
      onCursorError: (err) => fastify.log.warn({ err }, 'recording a device sync cursor failed'),
    });
    const visibility = new ChunkVisibility({ meta: o.meta });
    const chunks = new ChunkService({
      meta: o.meta,
      chunks: o.chunks,
      visibility,
      maxUploadBytes: o.maxChunkUploadBytes,
    });
    const deps = {
      spaces: o.spaces,
      chunks,
      commits: new CommitService({
        meta: o.meta,
        notifier: o.notifier,
        visibility,
        onConflict: (e) => {
          fastify.log.info({ event: 'conflict.detected', ...e }, 'conflict.detected');
          o.onConflict?.(e);
        },
      }),
      feed,
      manifests: new ManifestService({ meta: o.meta }),
    };
    // Long-polls would otherwise hold a graceful shutdown for up to a minute.
    fastify.addHook('preClose', async () => feed.close());
    fastify.addHook('onClose', async () => chunks.close());
    await fastify.register(syncRoutes(deps));
    await fastify.register(seedSyncRoutes({ ...deps, meta: o.meta }));
    await fastify.register(
      wsRoutes({ auth: o.auth, spaces: o.spaces, meta: o.meta, notifier: o.notifier, pingMs: o.wsPingMs }),
    );
  };
}
