// PgNotifier: the Notifier across server instances through PostgreSQL LISTEN/NOTIFY on channel
// `ferry_space` with payload `spaceId:seq`. Local subscribers hear a publish at once (no round
// trip); the echo of our own NOTIFY and stale seqs are dropped, so a listener sees each space's
// seq rise. After a lost connection it reconnects with backoff; notices sent while it was away are
// lost, which clients tolerate (long-polls time out, engines pull on reconnect anyway).

import pg from 'pg';
import type { Notifier, SpaceListener } from './notifier.ts';
import { MemoryNotifier } from './notifier.ts';

export const PG_CHANNEL = 'ferry_space';

export class PgNotifier implements Notifier {
  readonly #url: string;
  readonly #local = new MemoryNotifier();
  /** Highest seq delivered per space (bounded: old entries are dropped past MAX_TRACKED). */
  readonly #delivered = new Map<string, number>();
  readonly #publisher: pg.Pool;
  #listener: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;
  #ready: Promise<void> | undefined;

  constructor(url: string) {
    this.#url = url;
    this.#publisher = new pg.Pool({ connectionString: url, max: 2 });
    this.#publisher.on('error', () => undefined);
  }

  /** Connects the listening client; resolves once LISTEN is in place. */
  start(): Promise<void> {
    this.#ready ??= this.#connect();
    return this.#ready;
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#url });
    client.on('notification', (n) => {
      if (n.channel !== PG_CHANNEL || !n.payload) return;
      const at = n.payload.lastIndexOf(':');
      const seq = Number(n.payload.slice(at + 1));
      if (at > 0 && Number.isSafeInteger(seq)) this.#deliver(n.payload.slice(0, at), seq);
    });
    client.on('error', () => this.#reconnect(client));
    client.on('end', () => this.#reconnect(client));
    await client.connect();
    await client.query(`LISTEN ${PG_CHANNEL}`);
    this.#listener = client;
  }

  #reconnect(client: pg.Client, delay = 500): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end().catch(() => undefined);
    const attempt = (wait: number) => {
      this.#retry = setTimeout(() => {
        if (this.#closed) return;
        this.#connect().catch(() => attempt(Math.min(wait * 2, 30_000)));
      }, wait);
    };
    attempt(delay);
  }

  #deliver(spaceId: string, seq: number): void {
    if ((this.#delivered.get(spaceId) ?? 0) >= seq) return;
    this.#delivered.delete(spaceId);
    this.#delivered.set(spaceId, seq);
    if (this.#delivered.size > 100_000) this.#delivered.delete(this.#delivered.keys().next().value!);
    void this.#local.publish(spaceId, seq);
  }

  async publish(spaceId: string, seq: number): Promise<void> {
    this.#deliver(spaceId, seq);
    try {
      await this.#publisher.query('SELECT pg_notify($1, $2)', [PG_CHANNEL, `${spaceId}:${seq}`]);
    } catch {
      /* other instances miss this notice; their clients catch up on their next pull */
    }
  }

  subscribe(spaceId: string, fn: SpaceListener): () => void {
    return this.#local.subscribe(spaceId, fn);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    const l = this.#listener;
    this.#listener = undefined;
    if (l) {
      l.removeAllListeners();
      l.on('error', () => undefined);
      await l.end().catch(() => undefined);
    }
    await this.#publisher.end().catch(() => undefined);
    await this.#local.close();
  }
}
