// Prometheus metrics of fleet telemetry: sync events by status, devices failing now, alerts, the
// ingest queue's depth (events and bytes) and refusals, how long a group commit takes, and the
// writer thread's heap.

import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

export interface TelemetryMetrics {
  events: Counter<'status'>;
  rejected: Counter;
  alerts: Counter;
  commitSeconds: Histogram;
}

export function createTelemetryMetrics(
  registry: Registry,
  read: {
    queueDepth: () => number;
    queueBytes: () => number;
    failingDevices: () => Promise<number>;
    writerHeapBytes: () => Promise<number | undefined>;
  },
): TelemetryMetrics {
  new Gauge({
    name: 'ferry_telemetry_queue_depth',
    help: 'Sync events accepted and not yet written',
    registers: [registry],
    collect() {
      this.set(read.queueDepth());
    },
  });
  new Gauge({
    name: 'ferry_telemetry_queue_bytes',
    help: 'Bytes of packed sync events accepted and not yet written (the queue is bounded in these)',
    registers: [registry],
    collect() {
      this.set(read.queueBytes());
    },
  });
  new Gauge({
    name: 'ferry_devices_failing',
    help: 'Devices whose last 3 or more syncs failed',
    registers: [registry],
    async collect() {
      this.set(await read.failingDevices());
    },
  });
  new Gauge({
    name: 'ferry_telemetry_writer_heap_bytes',
    help: "V8 heap of the telemetry writer thread (SQLite; the main thread's is ferry_nodejs_heap_size_total_bytes)",
    registers: [registry],
    async collect() {
      const bytes = await read.writerHeapBytes();
      if (bytes !== undefined) this.set(bytes);
    },
  });
  return {
    events: new Counter({
      name: 'ferry_sync_events_total',
      help: 'Sync events written, by status (ok or failed)',
      labelNames: ['status'],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'ferry_sync_events_rejected_total',
      help: 'Sync event requests refused with 503 because the queue was full',
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'ferry_device_failing_alerts_total',
      help: 'Times a device reached 3 failed syncs in a row',
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'ferry_telemetry_commit_seconds',
      help: 'Duration of one group commit of sync events',
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
      registers: [registry],
    }),
  };
}
