// Prometheus metrics: HTTP requests by route and status with a latency histogram, storage and
// account gauges read at scrape time, and Node's process metrics.

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { FastifyInstance } from 'fastify';
import type { MetaStore } from '../store/meta/meta-store.ts';

export function createMetrics(meta: MetaStore): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ferry_' });
  new Gauge({
    name: 'ferry_stored_bytes',
    help: 'Bytes stored: logical (live file sizes) and physical (chunks at rest, after dedup and compression)',
    labelNames: ['kind'],
    registers: [registry],
    async collect() {
      const [logical, stats] = await Promise.all([meta.files.logicalBytes(), meta.content.stats()]);
      this.set({ kind: 'logical' }, logical);
      this.set({ kind: 'physical' }, stats.storedBytes);
    },
  });
  new Gauge({
    name: 'ferry_chunks',
    help: 'Chunks in the chunk store',
    registers: [registry],
    async collect() {
      this.set((await meta.content.stats()).chunks);
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
