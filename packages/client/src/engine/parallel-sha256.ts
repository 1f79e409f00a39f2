// SHA-256 of a stream on a second core. A big file's scan cuts and hashes chunks on the main thread
// and needs the whole file's SHA-256 too: a third of the CPU of it. A worker thread hashes the same
// bytes meanwhile, read into buffers over a SharedArrayBuffer, so nothing is copied and chunks and
// whole hash always come from the same bytes (a second read of the file could see other content).
// One worker per process, started at the first big file and stopped after a few idle seconds.
// Smaller streams are hashed in place, behind the same StreamHash interface.

import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

/** The worker: a Hash per job; `update` answers once the bytes are hashed (the buffer is free). */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const jobs = new Map();
parentPort.on('message', (m) => {
  try {
    if (m.op === 'update') {
      let h = jobs.get(m.id);
      if (!h) jobs.set(m.id, (h = createHash('sha256')));
      h.update(new Uint8Array(m.buffer, m.offset, m.length));
      parentPort.postMessage({ id: m.id, seq: m.seq });
    } else if (m.op === 'digest') {
      const h = jobs.get(m.id) ?? createHash('sha256');
      jobs.delete(m.id);
      parentPort.postMessage({ id: m.id, seq: m.seq, digest: h.digest('hex') });
    } else if (m.op === 'drop') jobs.delete(m.id);
  } catch (e) {
    parentPort.postMessage({ id: m.id, seq: m.seq, error: String(e && e.message || e) });
  }
});
`;

const IDLE_MS = 5000;

interface Reply {
  id: number;
  seq: number;
  digest?: string;
  error?: string;
}

/** A whole-stream hash in the worker: `update` bytes in order (views over a SharedArrayBuffer). */
interface ParallelHash {
  /** Resolves when these bytes are hashed and their buffer may be written again. */
  update(bytes: Uint8Array): Promise<void>;
  digest(): Promise<string>;
  /** Forgets the job (on error). */
  drop(): void;
}

class Sha256Worker {
  #worker: Worker | undefined;
  #next = 1;
  #seq = 1;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #jobs = 0;
  #idle: NodeJS.Timeout | undefined;

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
    w.on('message', (r: Reply) => {
      const p = this.#waiting.get(r.seq);
      this.#waiting.delete(r.seq);
      if (r.error) p?.reject(new Error(`hashing thread: ${r.error}`));
      else p?.resolve(r);
    });
    const fail = (e: Error) => {
      if (this.#worker === w) this.#worker = undefined;
      for (const p of this.#waiting.values()) p.reject(e);
      this.#waiting.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`the hashing thread exited (${code})`)));
    return (this.#worker = w);
  }

  /** Posts to `w`, which must still be the running worker: a job never spans two of them. */
  #call(w: Worker, msg: Record<string, unknown>): Promise<Reply> {
    if (this.#worker !== w) return Promise.reject(new Error('the hashing thread stopped during the job'));
    const seq = this.#seq++;
    return new Promise<Reply>((resolve, reject) => {
      this.#waiting.set(seq, { resolve, reject });
      w.postMessage({ ...msg, seq });
    });
  }

  begin(): ParallelHash {
    const id = this.#next++;
    this.#jobs++;
    clearTimeout(this.#idle);
    // Referenced while a job runs (its replies are what the caller awaits), not while idle.
    const w = this.#start();
    w.ref();
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      if (--this.#jobs === 0) {
        this.#worker?.unref();
        // Stopped when idle: an idle daemon should not keep a thread and its heap.
        this.#idle = setTimeout(() => {
          const w = this.#worker;
          this.#worker = undefined;
          void w?.terminate();
        }, IDLE_MS);
        this.#idle.unref();
      }
    };
    return {
      update: async (bytes) => {
        if (!(bytes.buffer instanceof SharedArrayBuffer)) throw new TypeError('bytes must be shared');
        await this.#call(w, {
          op: 'update',
          id,
          buffer: bytes.buffer,
          offset: bytes.byteOffset,
          length: bytes.byteLength,
        });
      },
      digest: async () => {
        try {
          return (await this.#call(w, { op: 'digest', id })).digest!;
        } finally {
          end();
        }
      },
      drop: () => {
        if (done) return;
        end();
        if (this.#worker === w) w.postMessage({ op: 'drop', id, seq: 0 });
      },
    };
  }
  /** Stops the thread now; jobs running on it fail, the next job starts another. */
  async stop(): Promise<void> {
    const w = this.#worker;
    this.#worker = undefined;
    await w?.terminate();
  }
}

const shared = new Sha256Worker();

/** Stops the hashing thread now (jobs on it fail; the next job starts a new one). */
export function stopHashingThread(): Promise<void> {
  return shared.stop();
}

/** From this size on, a stream's SHA-256 runs on the hashing thread. */
export const PARALLEL_HASH_MIN = 8 * 1024 * 1024;

/**
 * The SHA-256 of a stream read or written through reused buffers: computed here, or for a stream of
 * PARALLEL_HASH_MIN bytes and more on the hashing thread, from the buffers themselves. The caller
 * makes its buffers with `alloc` and writes a buffer again only once `released` resolves for it.
 */
export interface StreamHash {
  alloc(bytes: number): Buffer;
  /** Hashes `bytes` next (a view of a buffer from `alloc`). */
  update(bytes: Uint8Array): void;
  /** Resolves once the bytes given from `buffer` are hashed; rejects if hashing them failed. */
  released(buffer: ArrayBufferLike): Promise<void>;
  digest(): Promise<string>;
  /** Ends the hash without a digest (after an error); nothing once digested. */
  drop(): void;
}

/** A StreamHash for a stream of `size` bytes (as far as known). */
export function streamSha256(size: number): StreamHash {
  return size >= PARALLEL_HASH_MIN ? threadHash() : localHash();
}

function localHash(): StreamHash {
  const h = createHash('sha256');
  return {
    alloc: (n) => Buffer.allocUnsafe(n),
    update: (bytes) => void h.update(bytes),
    released: () => Promise.resolve(),
    digest: () => Promise.resolve(h.digest('hex')),
    drop: () => undefined,
  };
}

function threadHash(): StreamHash {
  const job = shared.begin();
  /** The last update from each buffer (updates of one job are hashed in order). */
  const pending = new Map<ArrayBufferLike, Promise<void>>();
  return {
    alloc: (n) => Buffer.from(new SharedArrayBuffer(n)),
    update: (bytes) => {
      const done = job.update(bytes);
      done.catch(() => undefined); // awaited by released() or digest()
      pending.set(bytes.buffer, done);
    },
    released: (buffer) => pending.get(buffer) ?? Promise.resolve(),
    digest: async () => {
      await Promise.all(pending.values());
      return job.digest();
    },
    drop: () => job.drop(),
  };
}
