// Prometheus metrics: HTTP requests by route and status with a latency histogram, storage and
// account gauges read at scrape time (storage ones reused for a while), and Node's process metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { MetaStore } from '../store/meta/meta-store.ts';

/**
 * The storage gauges scan the files and chunks tables (seconds with millions of chunks, on the
 * event loop with SQLite), so a scrape reuses the figures of one made less than `storageTtlMs` ago,
 * and concurrent scrapes share one computation.
 */
export function createMetrics(meta: MetaStore, { storageTtlMs = 30_000 } = {}): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ferry_' });
  let storage:
    { at: number; figures: Promise<{ logical: number; stored: number; chunks: number }> } | undefined;
  const storageFigures = () => {
    if (!storage || performance.now() - storage.at >= storageTtlMs) {
      const figures = Promise.all([meta.files.logicalBytes(), meta.content.stats()]).then(
        ([logical, stats]) => ({ logical, stored: stats.storedBytes, chunks: stats.chunks }),
      );
      storage = { at: performance.now(), figures };
      figures.catch(() => (storage = undefined));
    }
    return storage.figures;
  };
  new Gauge({
    name: 'ferry_stored_bytes',
    help: 'Bytes stored: logical (live file sizes) and physical (chunks at rest, after dedup and compression)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const f = await storageFigures();
      this.set({ kind: 'logical' }, f.logical);
      this.set({ kind: 'physical' }, f.stored);
    },
  });
  new Gauge({
    name: 'ferry_chunks',
    help: 'Chunks in the chunk store',
    registers: [registry],
    async collect() {
      this.set((await storageFigures()).chunks);
    },
  });
  new Gauge({
    name: 'ferry_users',
    help: 'User accounts',
    registers: [registry],
    async collect() {
      this.set(await meta.users.count());
    },
  });
  new Gauge({
    name: 'ferry_devices',
    help: 'Registered devices that are not revoked',
    registers: [registry],
    async collect() {
      this.set(await meta.devices.count());
    },
  });
  return registry;
}

export function installRequestMetrics(app: FastifyInstance, registry: Registry): void {
  const requests = new Counter({
    name: 'ferry_http_requests_total',
    help: 'HTTP requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'ferry_http_request_duration_seconds',
    help: 'HTTP request latency by route',
    labelNames: ['route', 'method'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    latency.observe({ route, method: request.method }, reply.elapsedTime / 1000);
  });
}
