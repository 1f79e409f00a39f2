// SHA-256 of a stream on a second core. A big file's scan cuts and hashes chunks on the main thread
// and needs the whole file's SHA-256 too: a third of the CPU of it. A worker thread hashes the same
// bytes meanwhile, read into buffers over a SharedArrayBuffer, so nothing is copied and chunks and
// whole hash always come from the same bytes (a second read of the file could see other content).
// One worker per process, started at the first big file and stopped after a few idle seconds.

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
export interface ParallelHash {
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

/** Starts a whole-stream SHA-256 on the process's hashing thread. */
export function parallelSha256(): ParallelHash {
  return shared.begin();
}

/** A buffer over shared memory, for bytes that `ParallelHash.update` takes. */
export function sharedBytes(n: number): Uint8Array {
  return new Uint8Array(new SharedArrayBuffer(n));
}
