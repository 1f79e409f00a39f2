// FastCDC content-defined chunking (Xia et al., USENIX ATC '16) with normalized chunking, level 2.
// Boundaries depend only on the bytes near them, so an insertion changes only the chunks around it.
// Pure TypeScript on Uint8Array: the same code cuts files on the server, in the engine and in the browser.

export interface ChunkerOptions {
  /** Smallest chunk, except for the last one of a stream. */
  minSize: number;
  /** The size chunks tend to; must be a power of two. */
  avgSize: number;
  /** Largest chunk: a cut is forced here. */
  maxSize: number;
}

/** Tuned by the benchmarks: small enough that a 10-byte edit re-sends ~32 KiB, large enough for speed. */
export const DEFAULT_CHUNKER: ChunkerOptions = Object.freeze({
  minSize: 8 * 1024,
  avgSize: 32 * 1024,
  maxSize: 128 * 1024,
});

// 256 pseudo-random 32-bit values from a fixed seed (splitmix32): deterministic on every platform.
const GEAR = (() => {
  const table = new Int32Array(256);
  let state = 0x9e3779b9;
  for (let i = 0; i < 256; i++) {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    table[i] = z ^ (z >>> 16);
  }
  return table;
})();

function topBitsMask(bits: number): number {
  return bits >= 32 ? -1 : ~((1 << (32 - bits)) - 1) | 0;
}

export function validateChunkerOptions(o: ChunkerOptions): void {
  const pow2 = (n: number) => n > 0 && (n & (n - 1)) === 0;
  if (!pow2(o.avgSize)) throw new RangeError('avgSize must be a power of two');
  if (!(o.minSize > 0 && o.minSize < o.avgSize && o.avgSize < o.maxSize)) {
    throw new RangeError('chunk sizes must satisfy 0 < minSize < avgSize < maxSize');
  }
}

/**
 * Finds the end of the first chunk in `buf[start, end)`. Returns `end` when the data ends before a
 * boundary; callers with more data to come must only trust cuts below `start + maxSize`.
 */
export function findCut(
  buf: Uint8Array,
  start: number,
  end: number,
  o: ChunkerOptions = DEFAULT_CHUNKER,
): number {
  const bits = Math.round(Math.log2(o.avgSize));
  // Normalized chunking: harder to cut before avgSize, easier after, which narrows the size spread.
  const maskS = topBitsMask(bits + 2);
  const maskL = topBitsMask(bits - 2);
  const n = end - start;
  if (n <= o.minSize) return end;
  // Absolute positions and a local table reference: about 20% faster than offsets from start.
  const limit = start + Math.min(n, o.maxSize);
  const normal = Math.min(limit, start + o.avgSize);
  const gear = GEAR;
  let h = 0;
  let p = start + o.minSize;
  // Unrolled four bytes at a time (the same test at every byte, so the same cuts): 40-50% faster
  // than one byte per iteration, whose loop bookkeeping cost as much as the hash step.
  for (; p + 4 <= normal; p += 4) {
    h = ((h << 1) + gear[buf[p]]) | 0;
    if ((h & maskS) === 0) return p + 1;
    h = ((h << 1) + gear[buf[p + 1]]) | 0;
    if ((h & maskS) === 0) return p + 2;
    h = ((h << 1) + gear[buf[p + 2]]) | 0;
    if ((h & maskS) === 0) return p + 3;
    h = ((h << 1) + gear[buf[p + 3]]) | 0;
    if ((h & maskS) === 0) return p + 4;
  }
  for (; p < normal; p++) {
    h = ((h << 1) + gear[buf[p]]) | 0;
    if ((h & maskS) === 0) return p + 1;
  }
  for (; p + 4 <= limit; p += 4) {
    h = ((h << 1) + gear[buf[p]]) | 0;
    if ((h & maskL) === 0) return p + 1;
    h = ((h << 1) + gear[buf[p + 1]]) | 0;
    if ((h & maskL) === 0) return p + 2;
    h = ((h << 1) + gear[buf[p + 2]]) | 0;
    if ((h & maskL) === 0) return p + 3;
    h = ((h << 1) + gear[buf[p + 3]]) | 0;
    if ((h & maskL) === 0) return p + 4;
  }
  for (; p < limit; p++) {
    h = ((h << 1) + gear[buf[p]]) | 0;
    if ((h & maskL) === 0) return p + 1;
  }
  return limit;
}

const DRAIN_BYTES = 1024 * 1024;

/**
 * Cuts `buf` from `pos` while the cuts are decided — at least maxSize bytes remain before `end`,
 * or all of it when `final` — handing each chunk's [start, cut) to `emit`; returns where it stopped.
 */
function cutDecided(
  buf: Uint8Array,
  pos: number,
  end: number,
  final: boolean,
  o: ChunkerOptions,
  emit: (start: number, cut: number) => void,
): number {
  while (end - pos >= o.maxSize || (final && pos < end)) {
    const cut = findCut(buf, pos, end, o);
    emit(pos, cut);
    pos = cut;
  }
  return pos;
}

/**
 * Streaming chunker: push bytes in any pieces, get the same chunks as cutting the whole stream
 * at once. A chunk that lies inside one pushed piece is a view into it (the chunker never writes
 * to it); a chunk that spans pieces is a fresh copy. So a caller that keeps chunks keeps only
 * their bytes, never a joined megabyte they were cut from.
 */
export class Chunker {
  readonly #o: ChunkerOptions;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;
  /**
   * Where pieces are joined to find cuts that span them: reused, so a stream of small pieces (64
   * KiB socket reads) does not allocate a fresh megabyte per megabyte — in a VM the page faults of
   * fresh memory cost 10× the copy (1 s of a 302 MiB upload's server CPU).
   */
  #scratch: Uint8Array | undefined;

  constructor(options: ChunkerOptions = DEFAULT_CHUNKER) {
    validateChunkerOptions(options);
    this.#o = options;
  }

  /** Adds data; returns the chunks that are now final. */
  push(data: Uint8Array): Uint8Array[] {
    if (data.length === 0) return [];
    this.#pending.push(data);
    this.#pendingBytes += data.length;
    if (this.#pendingBytes < Math.max(this.#o.maxSize, DRAIN_BYTES)) return [];
    return this.#drain(false);
  }

  /** Ends the stream; returns the remaining chunks. */
  finish(): Uint8Array[] {
    return this.#drain(true);
  }

  #drain(final: boolean): Uint8Array[] {
    if (this.#pendingBytes === 0) return [];
    const max = this.#o.maxSize;
    const pieces = this.#pending;
    const last = pieces[pieces.length - 1];
    const out: Uint8Array[] = [];
    if (pieces.length === 1 && last.buffer !== this.#scratch?.buffer)
      return this.#cutInPlace(last, 0, final, out);
    // Join in the scratch buffer: every piece, or — when the last piece is big — the ones before it
    // plus maxSize bytes of it, which decides every cut that starts before it.
    const bigLast = pieces.length > 1 && last.length >= max;
    const headBytes = bigLast ? this.#pendingBytes - last.length : this.#pendingBytes;
    const staged = headBytes + (bigLast ? max : 0);
    const s = this.#scratchFor(staged);
    let at = 0;
    for (const p of bigLast ? pieces.slice(0, -1) : pieces) {
      s.set(p, at);
      at += p.length;
    }
    if (bigLast) s.set(last.subarray(0, max), at);
    // Chunks cut here are copies (the scratch is reused). With a big last piece the window holds
    // maxSize bytes past the head, so the decided cuts are exactly those starting in the head.
    const pos = cutDecided(s, 0, staged, final && !bigLast, this.#o, (a, b) => out.push(s.slice(a, b)));
    if (bigLast) return this.#cutInPlace(last, pos - headBytes, final, out);
    s.copyWithin(0, pos, staged);
    this.#pending = staged > pos ? [s.subarray(0, staged - pos)] : [];
    this.#pendingBytes = staged - pos;
    return out;
  }

  /** Cuts `buf` from `pos` into views; what is left stays pending (a view as well). */
  #cutInPlace(buf: Uint8Array, from: number, final: boolean, out: Uint8Array[]): Uint8Array[] {
    const pos = cutDecided(buf, from, buf.length, final, this.#o, (a, b) => out.push(buf.subarray(a, b)));
    this.#pending = pos < buf.length ? [buf.subarray(pos)] : [];
    this.#pendingBytes = buf.length - pos;
    return out;
  }

  /**
   * The scratch buffer, at least `bytes` long: sized to need (most uploads are small), doubling up
   * to a drain's worth. A replaced scratch's pending bytes are staged from their old view.
   */
  #scratchFor(bytes: number): Uint8Array {
    if (this.#scratch && this.#scratch.length >= bytes) return this.#scratch;
    const cap = DRAIN_BYTES + 2 * this.#o.maxSize;
    this.#scratch = new Uint8Array(
      Math.min(cap, Math.max(bytes, 2 * (this.#scratch?.length ?? 0), 64 * 1024)),
    );
    return this.#scratch;
  }
}

/** How `chunkReads` reads and what it reports. */
export interface ChunkReadsOptions {
  /** Bytes per read. */
  readSize: number;
  /** Fills `into` from its start; resolves to the byte count, 0 at the end of the stream. */
  read(into: Uint8Array): Promise<number>;
  /** Every byte of the stream once, in order (for a whole-stream hash). */
  onData?(bytes: Uint8Array): void;
  /** Each chunk in order, as a view that is only valid during the call. */
  onChunk(chunk: Uint8Array): void;
  chunker?: ChunkerOptions;
  /** Makes the two read buffers (default `new Uint8Array`; e.g. over a SharedArrayBuffer). */
  allocate?: (bytes: number) => Uint8Array;
}

/**
 * Cuts a stream read into two buffers that are used in turn: the next read is in flight while the
 * bytes of the last one are cut, nothing is allocated per read, and the bytes still uncut at the
 * end of one buffer (fewer than maxSize) are copied in front of the next buffer's data instead of
 * joining pieces. The same chunks as `Chunker`.
 */
export async function chunkReads(o: ChunkReadsOptions): Promise<void> {
  const options = o.chunker ?? DEFAULT_CHUNKER;
  validateChunkerOptions(options);
  const max = options.maxSize;
  // [0, max) holds the carried-over bytes, [max, max + readSize) the bytes read.
  const allocate = o.allocate ?? ((n: number) => new Uint8Array(n));
  const buffers = [allocate(max + o.readSize), allocate(max + o.readSize)];
  let turn = 0;
  let carry: Uint8Array = new Uint8Array(0);
  let reading = o.read(buffers[0].subarray(max));
  for (;;) {
    const n = await reading;
    const buf = buffers[turn];
    const start = max - carry.length;
    buf.set(carry, start);
    const end = max + n;
    const final = n === 0;
    if (!final) {
      turn ^= 1;
      // The other buffer is free: its carry was just copied out.
      reading = o.read(buffers[turn].subarray(max));
      o.onData?.(buf.subarray(max, end));
    }
    const pos = cutDecided(buf, start, end, final, options, (a, b) => o.onChunk(buf.subarray(a, b)));
    if (final) return;
    carry = buf.subarray(pos, end);
  }
}

/** Cuts a whole buffer; the chunks are views into it. */
export function chunkBuffer(buf: Uint8Array, options: ChunkerOptions = DEFAULT_CHUNKER): Uint8Array[] {
  const c = new Chunker(options);
  return [...c.push(buf), ...c.finish()];
}
