// Keeps one sync root in sync continuously: a pass whenever the watcher sees a local change or the
// realtime channel says the space advanced past what the device has, a full rescan every few
// minutes as a safety net, and reconnects (WebSocket and passes) with exponential backoff plus full
// jitter while offline.

import type { RealtimeHandle } from '../api/sync-api.ts';
import type { PassReport, SyncEngine } from './sync-engine.ts';
import { remoteCursor } from './remote-mirror.ts';
import { TreeWatcher } from './tree-watcher.ts';

export interface SyncDaemonOptions {
  debounceMs?: number;
  rescanMs?: number;
  maxBackoffMs?: number;
  log?: (msg: string) => void;
  onPass?: (r: PassReport) => void;
}

export function jitteredBackoff(attempt: number, baseMs = 500, maxMs = 60_000, random = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

export class SyncDaemon {
  readonly engine: SyncEngine;
  readonly #o: SyncDaemonOptions;
  readonly #watcher: TreeWatcher;
  #rt: RealtimeHandle | null = null;
  #rtAttempt = 0;
  #rtTimer: NodeJS.Timeout | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #rescan: NodeJS.Timeout | null = null;
  #failures = 0;
  #running = false;
  #again = false;
  /** The highest seq the realtime channel announced during the running pass. */
  #announced = 0;
  #stopped = false;
  online = false;

  constructor(engine: SyncEngine, o: SyncDaemonOptions = {}) {
    this.engine = engine;
    this.#o = o;
    this.#watcher = new TreeWatcher(engine.root, {
      debounceMs: o.debounceMs ?? 25,
      onChange: () => this.kick(),
      onError: (e) => {
        this.#log(`watcher stopped: ${e.message}; relying on rescans`);
      },
    });
  }

  #log(m: string): void {
    this.#o.log?.(`[${this.engine.root}] ${m}`);
  }

  start(): void {
    this.#watcher.start();
    this.#rescan = setInterval(() => {
      if (!this.#watcher.active) this.#watcher.start();
      this.kick();
    }, this.#o.rescanMs ?? 120_000);
    this.#connect();
    this.kick();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher.stop();
    if (this.#rescan) clearInterval(this.#rescan);
    if (this.#rtTimer) clearTimeout(this.#rtTimer);
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#rt?.close();
    while (this.#running) await new Promise((r) => setTimeout(r, 10));
  }

  /** A pass is running. */
  get busy(): boolean {
    return this.#running;
  }

  /** Runs a pass now, or right after the running one. */
  kick(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = true;
    this.#again = false;
    void this.engine
      .sync()
      .then((r) => this.#after(r))
      .catch((e: unknown) => this.#log(`pass crashed: ${(e as Error).message}`))
      .finally(() => {
        this.#running = false;
        const announced = this.#announced;
        this.#announced = 0;
        if (this.#again || announced > remoteCursor(this.engine.db)) this.kick();
      });
  }

  /**
   * The space advanced to `seq`. Our own commits announce themselves too, but the pass that made
   * them applied them already (OwnCommits): a pass only when the remote tree is behind.
   */
  #advanced(seq: number): void {
    if (this.#running) this.#announced = Math.max(this.#announced, seq);
    else if (seq > remoteCursor(this.engine.db)) this.kick();
  }

  #after(r: PassReport): void {
    this.#o.onPass?.(r);
    if (r.status === 'offline' || r.status === 'failed') {
      this.online = r.status !== 'offline';
      const wait = jitteredBackoff(this.#failures++, 500, this.#o.maxBackoffMs ?? 60_000);
      this.#log(`${r.status}: ${r.message ?? r.errors[0] ?? ''}; retrying in ${wait} ms`);
      if (this.#retryTimer) clearTimeout(this.#retryTimer);
      this.#retryTimer = setTimeout(() => this.kick(), wait);
      return;
    }
    if (r.status === 'halted') this.#log(`halted: ${r.message}`);
    this.online = true;
    this.#failures = 0;
    // Deferred ops (a file moved under us) get another pass soon.
    if (r.status === 'pending' || r.deferred > 0) this.#again = true;
  }

  #connect(): void {
    if (this.#stopped) return;
    let retried = false;
    const retry = () => {
      if (this.#stopped || retried) return;
      retried = true;
      this.#rt = null;
      const wait = jitteredBackoff(this.#rtAttempt++, 250, this.#o.maxBackoffMs ?? 30_000);
      this.#rtTimer = setTimeout(() => this.#connect(), wait);
    };
    this.engine.client.sync
      .realtime([this.engine.spaceId], {
        onAdvance: (_space, seq) => this.#advanced(seq),
        onClose: () => {
          this.online = false;
          retry();
        },
      })
      .then(async (h) => {
        this.#rt = h;
        await h.ready;
        if (this.#stopped) return h.close();
        this.#rtAttempt = 0;
        this.online = true;
        this.kick(); // catch up on anything missed while disconnected
      })
      .catch(() => retry());
  }
}
