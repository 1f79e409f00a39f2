// The framed chunk format of `application/x-ferry-chunks`, both ways:
//   [32-byte raw SHA-256][1-byte flags: bit 0 = zstd][4-byte BE payload length][payload]
// readFrames() parses a body stream incrementally, holding at most one frame plus one network
// piece in memory, so a 1 GiB upload never sits in memory whole.

import { FerryError } from '@ferry/core/errors';

export const CHUNKS_CONTENT_TYPE = 'application/x-ferry-chunks';
export const FRAME_HEADER = 37;
export const MAX_FRAME_BYTES = 1024 * 1024;
export const FLAG_ZSTD = 1;

export interface Frame {
  hash: string;
  flags: number;
  payload: Uint8Array;
}

export function frameHeader(hash: string, flags: number, length: number): Buffer {
  const h = Buffer.allocUnsafe(FRAME_HEADER);
  h.write(hash, 0, 32, 'hex');
  h[32] = flags;
  h.writeUInt32BE(length, 33);
  return h;
}

/** Reads exact byte counts from an async stream of pieces. */
class ByteReader {
  readonly #it: AsyncIterator<Uint8Array>;
  #pieces: Buffer[] = [];
  #buffered = 0;
  #ended = false;
  total = 0;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  /** Fills the buffer to `n` bytes; false when the stream ended first. */
  async #fill(n: number): Promise<boolean> {
    while (this.#buffered < n && !this.#ended) {
      const r = await this.#it.next();
      if (r.done) this.#ended = true;
      else if (r.value.length > 0) {
        const b = Buffer.isBuffer(r.value)
          ? r.value
          : Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength);
        this.#pieces.push(b);
        this.#buffered += b.length;
        this.total += b.length;
      }
    }
    return this.#buffered >= n;
  }

  /** Exactly `n` bytes; undefined at a clean end of stream (nothing buffered); throws when cut. */
  async read(n: number): Promise<Buffer | undefined> {
    if (!(await this.#fill(n))) {
      if (this.#buffered === 0) return undefined;
      throw new FerryError('BAD_REQUEST', 'the chunk stream ends in the middle of a frame');
    }
    const first = this.#pieces[0];
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.#pieces.shift();
      else this.#pieces[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      while (at < n) {
        const p = this.#pieces[0];
        const take = Math.min(p.length, n - at);
        p.copy(out, at, 0, take);
        at += take;
        if (take === p.length) this.#pieces.shift();
        else this.#pieces[0] = p.subarray(take);
      }
    }
    this.#buffered -= n;
    return out;
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}

/** Parses frames from a body stream. Throws BAD_REQUEST / PAYLOAD_TOO_LARGE on malformed input. */
export async function* readFrames(
  body: AsyncIterable<Uint8Array>,
  { maxTotal = Number.POSITIVE_INFINITY } = {},
): AsyncGenerator<Frame> {
  const r = new ByteReader(body);
  try {
    for (;;) {
      const head = await r.read(FRAME_HEADER);
      if (!head) return;
      const flags = head[32];
      const length = head.readUInt32BE(33);
      if ((flags & ~FLAG_ZSTD) !== 0) throw new FerryError('BAD_REQUEST', `unknown frame flags ${flags}`);
      if (length > MAX_FRAME_BYTES)
        throw new FerryError('PAYLOAD_TOO_LARGE', `a frame is larger than ${MAX_FRAME_BYTES} bytes`);
      const payload = length === 0 ? Buffer.alloc(0) : await r.read(length);
      if (!payload) throw new FerryError('BAD_REQUEST', 'the chunk stream ends in the middle of a frame');
      if (r.total > maxTotal)
        throw new FerryError('PAYLOAD_TOO_LARGE', `the chunk stream is larger than ${maxTotal} bytes`);
      yield { hash: head.toString('hex', 0, 32), flags, payload };
    }
  } finally {
    await r.close();
  }
}
