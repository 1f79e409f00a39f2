// One sync root: opens its state db, and runs sync passes — pull the change feed, scan, plan,
// execute — until the plan is empty (in sync) or a round limit is hit. Each pass is reported as a
// sync event (queued in the state db, sent when the telemetry endpoint answers).

import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { FerryClient } from '../api/client.ts';
import { isFerryApiError } from '../api/errors.ts';
import { BandwidthLimiter } from './bandwidth-limiter.ts';
import { executeRemoteOps } from './commit-executor.ts';
import { emptyStats, type EngineContext, type PassStats } from './engine-context.ts';
import { TMP_DIR } from './file-downloader.ts';
import { STATE_DIR } from './ignore-rules.ts';
import { executeLocalOps } from './local-executor.ts';
import { plan, type PlanOp } from './planner.ts';
import { pullRemote } from './remote-mirror.ts';
import { ScanUploader } from './scan-uploader.ts';
import { scanTree } from './scanner.ts';
import { StateDb } from './state-db.ts';
import { flushSyncEvents } from './sync-events.ts';
import { acquireRootLock } from './root-lock.ts';

export interface SyncEngineOptions {
  root: string;
  client: FerryClient;
  /** Space id; stored in the state db by `ferry init`. */
  spaceId?: string;
  /** Bytes per second, 0 = unlimited. */
  uploadLimit?: number;
  downloadLimit?: number;
  concurrency?: number;
  allowMassDelete?: boolean;
  log?: (msg: string) => void;
  onProgress?: (kind: 'up' | 'down', bytes: number) => void;
}

export type PassStatus = 'ok' | 'pending' | 'failed' | 'offline' | 'halted';

export interface PassReport extends PassStats {
  status: PassStatus;
  inSync: boolean;
  durationMs: number;
  rounds: number;
  message?: string;
  /** Milliseconds spent in each phase, over all rounds: where a slow pass spent its time. */
  phases: Record<Phase, number>;
}

export type Phase = 'pull' | 'scan' | 'local' | 'remote';

const MAX_ROUNDS = 6;

export function stateDir(root: string): string {
  return join(root, STATE_DIR);
}

export class SyncEngine {
  readonly root: string;
  readonly db: StateDb;
  readonly client: FerryClient;
  readonly spaceId: string;
  readonly #o: SyncEngineOptions;
  readonly #up: BandwidthLimiter;
  readonly #down: BandwidthLimiter;
  #running: Promise<PassReport> | null = null;

  constructor(o: SyncEngineOptions) {
    this.root = resolve(o.root);
    this.#o = o;
    this.client = o.client;
    this.db = new StateDb(join(stateDir(this.root), 'state.db'));
    const space = o.spaceId ?? this.db.getMeta('spaceId');
    if (!space) throw new Error(`${this.root} is not initialised: run "ferry init ${o.root}"`);
    this.spaceId = space;
    this.#up = new BandwidthLimiter(o.uploadLimit ?? 0);
    this.#down = new BandwidthLimiter(o.downloadLimit ?? 0);
  }

  /** Creates DIR/.ferry and its state db for a space. */
  static async init(root: string, spaceId: string, serverUrl: string): Promise<void> {
    await mkdir(join(resolve(root), STATE_DIR, 'tmp'), { recursive: true });
    const db = new StateDb(join(resolve(root), STATE_DIR, 'state.db'));
    try {
      const prev = db.getMeta('spaceId');
      if (prev && prev !== spaceId) throw new Error(`${root} already syncs another space (${prev})`);
      db.setMeta('spaceId', spaceId);
      db.setMeta('server', serverUrl);
    } finally {
      db.close();
    }
  }

  close(): void {
    this.db.close();
  }

  /** Runs one pass; concurrent callers share the running one. */
  sync(o: { signal?: AbortSignal } = {}): Promise<PassReport> {
    this.#running ??= this.#pass(o.signal).finally(() => {
      this.#running = null;
    });
    return this.#running;
  }

  /** Pulls, scans and plans without changing anything: what a pass would do now. */
  async preview(o: { pull?: boolean } = {}): Promise<{ ops: PlanOp[]; halt?: string; offline: boolean }> {
    let offline = false;
    if (o.pull !== false) {
      try {
        await pullRemote(this.client.sync, this.db, this.spaceId);
      } catch (e) {
        if (!isOffline(e)) throw e;
        offline = true;
      }
    }
    const local = await scanTree(this.root, this.db);
    const p = plan({
      synced: this.db.synced(),
      local,
      remote: this.db.remote(),
      allowMassDelete: this.#o.allowMassDelete,
    });
    return { ops: p.ops, halt: p.halt, offline };
  }

  async #pass(signal?: AbortSignal): Promise<PassReport> {
    const started = performance.now();
    const stats = emptyStats();
    const log = this.#o.log ?? (() => undefined);
    const ctx: EngineContext = {
      root: this.root,
      spaceId: this.spaceId,
      api: this.client.sync,
      db: this.db,
      up: this.#up,
      down: this.#down,
      concurrency: this.#o.concurrency ?? 4,
      signal,
      stats,
      onProgress: this.#o.onProgress,
      log,
    };
    let status: PassStatus = 'pending';
    let message: string | undefined;
    let rounds = 0;
    let release: (() => Promise<void>) | undefined;
    const phases: Record<Phase, number> = { pull: 0, scan: 0, local: 0, remote: 0 };
    const timed = async <T>(phase: Phase, run: () => Promise<T>): Promise<T> => {
      const t0 = performance.now();
      try {
        return await run();
      } finally {
        phases[phase] += performance.now() - t0;
      }
    };
    try {
      release = await acquireRootLock(this.root);
      await this.#cleanTmp();
      let pulledAhead = false; // the round before ended with a pull that brought changes
      for (; rounds < MAX_ROUNDS; rounds++) {
        if (!pulledAhead) await timed('pull', () => pullRemote(ctx.api, this.db, this.spaceId, { signal }));
        pulledAhead = false;
        // Chunks of the files the scan reads go up while it reads (see ScanUploader).
        const early = new ScanUploader(ctx.api, {
          limiter: ctx.up,
          signal,
          onBytes: (n) => ctx.onProgress?.('up', n),
        });
        const local = await timed('scan', async () => {
          try {
            return await scanTree(this.root, this.db, { upload: early });
          } finally {
            await early.finish();
            stats.bytesUp += early.bytesSent;
            if (early.error) log(`early upload stopped: ${early.error.message}`);
          }
        });
        const synced = this.db.synced();
        const p = plan({ synced, local, remote: this.db.remote(), allowMassDelete: this.#o.allowMassDelete });
        if (p.halt) {
          status = 'halted';
          message = p.halt;
          break;
        }
        if (p.ops.length === 0) {
          status = stats.errors.length ? 'failed' : 'ok';
          break;
        }
        const remoteOps = p.ops.filter((op) => op.type === 'upload' || op.type === 'deleteRemote');
        const localOps = p.ops.filter((op) => op.type !== 'upload' && op.type !== 'deleteRemote');
        const before = { deferred: stats.deferred, conflicts: stats.conflicts, errors: stats.errors.length };
        await timed('local', () => executeLocalOps(ctx, localOps, local, synced));
        await timed('remote', () => executeRemoteOps(ctx, remoteOps, early.stored));
        // A round that did everything it planned (nothing deferred, no conflict, no error) left the
        // synced tree equal to the local one it scanned and, when the pull brings nothing new, to
        // the remote one: the plan of another round would be empty, so the pull stands in for it
        // and its scan of the whole tree (5,000 files: ~130 ms). Anything else gets a full round.
        const clean =
          stats.deferred === before.deferred &&
          stats.conflicts === before.conflicts &&
          stats.errors.length === before.errors;
        if (clean) {
          const pulled = await timed('pull', () => pullRemote(ctx.api, this.db, this.spaceId, { signal }));
          if (pulled.changes === 0) {
            rounds++;
            status = stats.errors.length ? 'failed' : 'ok';
            break;
          }
          pulledAhead = true;
        }
      }
    } catch (e) {
      status = isOffline(e)
        ? 'offline'
        : e instanceof Error && /halted/.test(e.message)
          ? 'halted'
          : 'failed';
      message = e instanceof Error ? e.message : String(e);
      log(`sync failed: ${message}`);
    } finally {
      await release?.();
    }
    if (status === 'pending' && stats.errors.length) status = 'failed';
    const report: PassReport = {
      ...stats,
      status,
      inSync: status === 'ok',
      durationMs: Math.round(performance.now() - started),
      rounds,
      message,
      phases: {
        pull: Math.round(phases.pull),
        scan: Math.round(phases.scan),
        local: Math.round(phases.local),
        remote: Math.round(phases.remote),
      },
    };
    await this.#record(report);
    return report;
  }

  /** Records the pass and sends the queued reports (kept for the next pass if that fails). */
  async #record(r: PassReport): Promise<void> {
    const now = Date.now();
    this.db.setMeta('lastPassAt', now);
    this.db.setMeta('lastStatus', r.status);
    this.db.setMeta('lastMessage', r.message ?? '');
    if (r.inSync) this.db.setMeta('lastSyncAt', now);
    const files = r.uploaded + r.downloaded + r.deleted + r.renamed;
    // Idle daemon passes are not worth a report; anything that moved or failed is.
    if (files === 0 && r.status === 'ok') return;
    const secs = Math.max(r.durationMs, 1) / 1000;
    // The server takes the device from the token when device_id is left out.
    const deviceId = this.client.session?.deviceId;
    const error = r.status === 'ok' ? undefined : r.message || r.errors[0];
    this.db.queueEvent({
      ...(deviceId ? { device_id: deviceId } : {}),
      timestamp: now,
      total_files_synced: files,
      total_errors: r.errors.length + (r.status === 'ok' ? 0 : 1),
      internet_speed: Math.round(((r.bytesUp + r.bytesDown) * 8) / secs / 1000) / 1000, // Mbit/s
      duration_ms: r.durationMs,
      bytes_up: r.bytesUp,
      bytes_down: r.bytesDown,
      status: r.status === 'ok' ? 'ok' : 'failed',
      ...(error ? { error_message: error.slice(0, 2000) } : {}),
    });
    if (r.status !== 'offline') await flushSyncEvents(this.client, this.db).catch(() => undefined);
  }

  /** Temp files of a pass that crashed are garbage: remove them before starting. */
  async #cleanTmp(): Promise<void> {
    const dir = join(this.root, TMP_DIR);
    await mkdir(dir, { recursive: true });
    for (const name of await readdir(dir)) await rm(join(dir, name), { force: true, recursive: true });
  }
}

export function isOffline(e: unknown): boolean {
  if (isFerryApiError(e)) return e.status === 0 || e.status === 502 || e.status === 503 || e.status === 504;
  return e instanceof TypeError && /fetch failed/.test(e.message);
}
