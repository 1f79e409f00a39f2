// Manifest delta codec, shared by server and engine: a file's chunk list (packed 36-byte refs:
// raw SHA-256 + uint32 BE length) expressed as copies from a base list plus literal refs, so a
// 10-byte edit in a 100 MB file costs a few hundred bytes instead of the whole 115 KB list.
// Pure TypeScript on Uint8Array, no Node APIs (runs in the browser too).
//
// Wire format (all integers are unsigned LEB128 varints unless noted):
//   "FMD" 0x01                magic + format version (4 bytes)
//   baseId    32 bytes        raw SHA-256 manifest id of the base; all zero = no base (a full list)
//   targetId  32 bytes        raw manifest id of the result; all zero = not stated
//   count     varint          number of refs in the result
//   ops until the end:
//     0x01 start n            COPY n refs from the base, starting at ref index `start`
//     0x02 n <n × 36 bytes>   LITERAL n refs
// A decoder checks that the ops produce exactly `count` refs and never read outside the base.

export const REF_BYTES = 36;
const MAGIC = [0x46, 0x4d, 0x44, 0x01];
const HEADER_BYTES = 4 + 32 + 32;
const OP_COPY = 0x01;
const OP_LITERAL = 0x02;
/** A sanity bound on decoded lists: 16 M refs ≈ 512 GiB of content at the default chunk size. */
export const MAX_DELTA_REFS = 16 * 1024 * 1024;

export class ManifestDeltaError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ManifestDeltaError';
  }
}

export interface ChunkRefLike {
  /** Hex SHA-256 of the chunk. */
  hash: string;
  size: number;
}

export interface ManifestDeltaHeader {
  /** Hex id of the base manifest, or null when the delta is a full list. */
  baseId: string | null;
  /** Hex id of the resulting manifest, or null when the encoder did not state it. */
  targetId: string | null;
  /** Refs in the result. */
  count: number;
}

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

export function bytesToHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += HEX[b[i]];
  return s;
}

export function hexToBytes(
  hex: string,
  out: Uint8Array = new Uint8Array(hex.length >> 1),
  at = 0,
): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex))
    throw new ManifestDeltaError(`"${hex.slice(0, 80)}" is not hex`);
  for (let i = 0; i < hex.length; i += 2) out[at + (i >> 1)] = parseInt(hex.slice(i, i + 2), 16);
  return out;
}

/** Packs chunk refs into the 36-byte-per-ref form that manifest ids are computed over. */
export function packRefs(refs: readonly ChunkRefLike[]): Uint8Array {
  const out = new Uint8Array(refs.length * REF_BYTES);
  const view = new DataView(out.buffer);
  refs.forEach((r, i) => {
    if (r.hash.length !== 64) throw new ManifestDeltaError(`chunk hash "${r.hash}" is not 64 hex digits`);
    hexToBytes(r.hash, out, i * REF_BYTES);
    view.setUint32(i * REF_BYTES + 32, r.size);
  });
  return out;
}

export function unpackRefs(packed: Uint8Array): ChunkRefLike[] {
  if (packed.length % REF_BYTES !== 0)
    throw new ManifestDeltaError('packed refs are not a multiple of 36 bytes');
  const view = new DataView(packed.buffer, packed.byteOffset, packed.byteLength);
  const out: ChunkRefLike[] = [];
  for (let at = 0; at < packed.length; at += REF_BYTES) {
    out.push({ hash: bytesToHex(packed.subarray(at, at + 32)), size: view.getUint32(at + 32) });
  }
  return out;
}

class Writer {
  #buf = new Uint8Array(256);
  #len = 0;
  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < this.#len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }
  byte(b: number): void {
    this.#reserve(1);
    this.#buf[this.#len++] = b;
  }
  varint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new ManifestDeltaError(`bad varint ${n}`);
    while (n >= 0x80) {
      this.byte((n % 0x80) | 0x80);
      n = Math.floor(n / 0x80);
    }
    this.byte(n);
  }
  bytes(b: Uint8Array): void {
    this.#reserve(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
  }
  done(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

class Reader {
  readonly #b: Uint8Array;
  pos: number;
  constructor(b: Uint8Array, pos = 0) {
    this.#b = b;
    this.pos = pos;
  }
  get done(): boolean {
    return this.pos >= this.#b.length;
  }
  byte(): number {
    if (this.pos >= this.#b.length) throw new ManifestDeltaError('delta is truncated');
    return this.#b[this.pos++];
  }
  varint(): number {
    let n = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      const b = this.byte();
      n += (b & 0x7f) * mul;
      if (b < 0x80) return n;
      mul *= 0x80;
    }
    throw new ManifestDeltaError('varint is too long');
  }
  take(n: number): Uint8Array {
    if (this.pos + n > this.#b.length) throw new ManifestDeltaError('delta is truncated');
    const out = this.#b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
}

const isZero = (b: Uint8Array) => b.every((x) => x === 0);

function refKey(packed: Uint8Array, i: number): string {
  // A latin1 string of the 36 bytes: cheap to build, exact as a Map key.
  return String.fromCharCode.apply(
    null,
    packed.subarray(i * REF_BYTES, (i + 1) * REF_BYTES) as unknown as number[],
  );
}

function sameRef(a: Uint8Array, i: number, b: Uint8Array, j: number): boolean {
  const ai = i * REF_BYTES;
  const bj = j * REF_BYTES;
  for (let k = 0; k < REF_BYTES; k++) if (a[ai + k] !== b[bj + k]) return false;
  return true;
}

/**
 * Encodes `target` (packed refs) as a delta against `base` (packed refs), or as a full list when
 * `base` is null. Ids are hex manifest ids written into the header for the decoder to check.
 */
export function encodeManifestDelta(
  target: Uint8Array,
  base: Uint8Array | null,
  ids: { baseId?: string | null; targetId?: string | null } = {},
): Uint8Array {
  if (target.length % REF_BYTES !== 0) throw new ManifestDeltaError('target is not a multiple of 36 bytes');
  if (base && base.length % REF_BYTES !== 0)
    throw new ManifestDeltaError('base is not a multiple of 36 bytes');
  const w = new Writer();
  w.bytes(Uint8Array.from(MAGIC));
  w.bytes(ids.baseId && base ? hexToBytes(ids.baseId) : new Uint8Array(32));
  w.bytes(ids.targetId ? hexToBytes(ids.targetId) : new Uint8Array(32));
  const n = target.length / REF_BYTES;
  w.varint(n);

  const baseN = base ? base.length / REF_BYTES : 0;
  const index = new Map<string, number[]>();
  for (let j = 0; j < baseN; j++) {
    const k = refKey(base!, j);
    const list = index.get(k);
    if (!list) index.set(k, [j]);
    else if (list.length < 8) list.push(j);
  }

  let literalFrom = -1;
  const flushLiteral = (end: number) => {
    if (literalFrom < 0) return;
    w.byte(OP_LITERAL);
    w.varint(end - literalFrom);
    w.bytes(target.subarray(literalFrom * REF_BYTES, end * REF_BYTES));
    literalFrom = -1;
  };
  let expected = -1; // the base index that would continue the previous copy
  let i = 0;
  while (i < n) {
    let start = -1;
    let run = 0;
    if (base) {
      const candidates =
        expected >= 0 && expected < baseN && sameRef(target, i, base, expected)
          ? [expected]
          : (index.get(refKey(target, i)) ?? []);
      for (const j of candidates) {
        let len = 0;
        while (i + len < n && j + len < baseN && sameRef(target, i + len, base, j + len)) len++;
        if (len > run) {
          run = len;
          start = j;
        }
      }
    }
    // Even a one-ref copy (≤ 6 bytes) beats a 36-byte literal.
    if (run > 0) {
      flushLiteral(i);
      w.byte(OP_COPY);
      w.varint(start);
      w.varint(run);
      i += run;
      expected = start + run;
    } else {
      if (literalFrom < 0) literalFrom = i;
      i++;
    }
  }
  flushLiteral(n);
  return w.done();
}

export function readManifestDeltaHeader(delta: Uint8Array): ManifestDeltaHeader {
  if (delta.length < HEADER_BYTES + 1 || MAGIC.some((b, i) => delta[i] !== b))
    throw new ManifestDeltaError('not a Ferry manifest delta (bad magic)');
  const baseId = delta.subarray(4, 36);
  const targetId = delta.subarray(36, 68);
  const count = new Reader(delta, HEADER_BYTES).varint();
  return {
    baseId: isZero(baseId) ? null : bytesToHex(baseId),
    targetId: isZero(targetId) ? null : bytesToHex(targetId),
    count,
  };
}

/**
 * Applies a delta to `base` (packed refs; null for a full list) and returns the packed result.
 * Throws ManifestDeltaError for malformed input, a missing base, or copies outside the base. The
 * caller checks the result's id (sha256 of the packed refs) against the header's targetId.
 */
export function decodeManifestDelta(
  delta: Uint8Array,
  base: Uint8Array | null,
  { maxRefs = MAX_DELTA_REFS } = {},
): Uint8Array {
  const header = readManifestDeltaHeader(delta);
  if (header.count > maxRefs)
    throw new ManifestDeltaError(`delta describes ${header.count} refs, more than ${maxRefs}`);
  if (base && base.length % REF_BYTES !== 0)
    throw new ManifestDeltaError('base is not a multiple of 36 bytes');
  const r = new Reader(delta, HEADER_BYTES);
  r.varint();
  const out = new Uint8Array(header.count * REF_BYTES);
  let at = 0;
  while (!r.done) {
    const op = r.byte();
    if (op === OP_COPY) {
      const start = r.varint();
      const n = r.varint();
      if (!base) throw new ManifestDeltaError('delta copies from a base but none was given');
      if ((start + n) * REF_BYTES > base.length)
        throw new ManifestDeltaError('delta copies outside the base');
      if (at + n > header.count) throw new ManifestDeltaError('delta produces more refs than it declares');
      out.set(base.subarray(start * REF_BYTES, (start + n) * REF_BYTES), at * REF_BYTES);
      at += n;
    } else if (op === OP_LITERAL) {
      const n = r.varint();
      if (at + n > header.count) throw new ManifestDeltaError('delta produces more refs than it declares');
      out.set(r.take(n * REF_BYTES), at * REF_BYTES);
      at += n;
    } else {
      throw new ManifestDeltaError(`unknown delta op ${op}`);
    }
  }
  if (at !== header.count)
    throw new ManifestDeltaError(`delta produced ${at} refs, declared ${header.count}`);
  return out;
}

/** Base64 helpers (no Buffer) for carrying a delta inside JSON, e.g. a commit's `chunksDelta`. */
export function toBase64(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i += 0x8000)
    s += String.fromCharCode.apply(null, b.subarray(i, i + 0x8000) as unknown as number[]);
  return btoa(s);
}

export function fromBase64(s: string): Uint8Array {
  let bin: string;
  try {
    bin = atob(s);
  } catch {
    throw new ManifestDeltaError('not valid base64');
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
