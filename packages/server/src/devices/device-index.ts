// Device id → slot, for the telemetry service's table of up to 500,000 reporting devices. Device ids
// are UUIDs (the server makes them), so each is kept as four 32-bit words in one typed array and
// found through an open-addressing table of slot numbers: 24–32 bytes a device outside V8's heap,
// where a Map of id strings cost ~100 bytes a device inside it (the string, the Map's entry), and
// every full collection marked them all. An id that is not a lowercase UUID (a test's, an old
// import's) goes into a plain Map instead, so any string works.

/** Slots of a table are `slot + 1`; 0 is an empty bucket. */
const EMPTY = 0;

export class DeviceIndex {
  /** The id of each slot: four words for a UUID (words[4s..4s+3]). */
  #words = new Uint32Array(0);
  /** Open addressing, linear probing; power-of-two size, at most half full. */
  #table = new Int32Array(16);
  #uuids = 0;
  /** Ids that are not lowercase UUIDs, both ways. */
  readonly #other = new Map<string, number>();
  readonly #otherIds = new Map<number, string>();
  /** Scratch for the id being looked up. */
  readonly #q = new Uint32Array(4);

  get size(): number {
    return this.#uuids + this.#other.size;
  }

  get(id: string): number | undefined {
    if (!parseUuid(id, this.#q)) return this.#other.get(id);
    const b = this.#find(this.#q);
    return this.#table[b] === EMPTY ? undefined : this.#table[b] - 1;
  }

  /** Maps `id` to `slot`; the id must not be mapped already. */
  set(id: string, slot: number): void {
    if (!parseUuid(id, this.#q)) {
      this.#other.set(id, slot);
      this.#otherIds.set(slot, id);
      return;
    }
    if ((this.#uuids + 1) * 2 > this.#table.length) this.#rehash(this.#table.length * 2);
    if (4 * slot + 4 > this.#words.length) {
      const grown = new Uint32Array(Math.max(1024, 4 * slot + 4, this.#words.length * 2));
      grown.set(this.#words);
      this.#words = grown;
    }
    this.#words.set(this.#q, 4 * slot);
    this.#table[this.#find(this.#q)] = slot + 1;
    this.#uuids++;
  }

  delete(id: string): void {
    if (!parseUuid(id, this.#q)) {
      const slot = this.#other.get(id);
      if (slot === undefined) return;
      this.#other.delete(id);
      this.#otherIds.delete(slot);
      return;
    }
    let hole = this.#find(this.#q);
    if (this.#table[hole] === EMPTY) return;
    this.#table[hole] = EMPTY;
    this.#uuids--;
    // Backward-shift deletion: move up each entry of the run after the hole that may sit there.
    const mask = this.#table.length - 1;
    for (let b = (hole + 1) & mask; this.#table[b] !== EMPTY; b = (b + 1) & mask) {
      const home = this.#home(this.#table[b] - 1);
      // The entry at b may move to the hole if its home is not in the cyclic range (hole, b].
      if (((b - home) & mask) >= ((b - hole) & mask)) {
        this.#table[hole] = this.#table[b];
        this.#table[b] = EMPTY;
        hole = b;
      }
    }
  }

  /** The id mapped to `slot` (the slot must be mapped). */
  idOf(slot: number): string {
    return this.#otherIds.get(slot) ?? formatUuid(this.#words, 4 * slot);
  }

  /** The bucket holding the id in `q`, or the empty bucket where it would go. */
  #find(q: Uint32Array): number {
    const mask = this.#table.length - 1;
    const w = this.#words;
    for (let b = hash(q[0], q[1], q[2], q[3]) & mask; ; b = (b + 1) & mask) {
      const s = this.#table[b] - 1;
      if (s < 0) return b;
      const o = 4 * s;
      if (w[o] === q[0] && w[o + 1] === q[1] && w[o + 2] === q[2] && w[o + 3] === q[3]) return b;
    }
  }

  #home(slot: number): number {
    const w = this.#words;
    const o = 4 * slot;
    return hash(w[o], w[o + 1], w[o + 2], w[o + 3]) & (this.#table.length - 1);
  }

  #rehash(size: number): void {
    const old = this.#table;
    this.#table = new Int32Array(size);
    const mask = size - 1;
    for (const v of old) {
      if (v === EMPTY) continue;
      let b = this.#home(v - 1);
      while (this.#table[b] !== EMPTY) b = (b + 1) & mask;
      this.#table[b] = v;
    }
  }
}

/** Mixes the four words (random in a v4 UUID, but not every id is random). */
function hash(a: number, b: number, c: number, d: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b;
  h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35) ^ c;
  h = Math.imul(h ^ (h >>> 13), 0x27d4eb2f) ^ d;
  return (h ^ (h >>> 16)) >>> 0;
}

/** Digit values of '0'-'9' and 'a'-'f'; -1 for anything else (uppercase included). */
const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = 10 + i;

/** Parses a lowercase 8-4-4-4-12 UUID into four words; false (q unspecified) for anything else. */
export function parseUuid(s: string, q: Uint32Array): boolean {
  if (s.length !== 36) return false;
  let word = 0;
  let digits = 0;
  let n = 0;
  for (let i = 0; i < 36; i++) {
    const c = s.charCodeAt(i);
    if (i === 8 || i === 13 || i === 18 || i === 23) {
      if (c !== 45) return false; // '-'
      continue;
    }
    const v = c < 128 ? HEX[c] : -1;
    if (v < 0) return false;
    word = (word << 4) | v;
    if (++digits === 8) {
      q[n++] = word >>> 0;
      word = 0;
      digits = 0;
    }
  }
  return true;
}

export function formatUuid(w: Uint32Array, o: number): string {
  const hex = (i: number) => w[o + i].toString(16).padStart(8, '0');
  const [a, b, c, d] = [hex(0), hex(1), hex(2), hex(3)];
  return `${a}-${b.slice(0, 4)}-${b.slice(4)}-${c.slice(0, 4)}-${c.slice(4)}${d}`;
}
