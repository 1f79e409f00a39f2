// Time-ordered UUIDs (RFC 9562 version 7) for the ids of rows written in bulk: file and version
// ids on the server, commit op ids on devices. A random (v4) id lands on a random leaf page of
// every index it is in, so a commit of 1,000 new files dirtied ~1,000 scattered pages of each id
// index, each written to the WAL at commit and again at checkpoint; v7 ids made in order append
// to the right edge of those indexes instead.
//
// Layout: 48 bits of Unix milliseconds, the version (7), 12 bits of counter, the variant, 62
// random bits. The counter starts at a random value below 2^11 each millisecond and steps by
// one, so ids made by one process sort in the order they were made (RFC 9562 §6.2, method 1);
// if it runs out within a millisecond, the timestamp borrows the next one. Isomorphic: only
// crypto.getRandomValues.

const HEX = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = 4096;
const random = new Uint8Array(POOL);
let used = POOL;
let lastMs = -1;
let counter = 0;

/** Takes `n` bytes of the random pool (refilled when spent); returns their offset in `random`. */
function takeRandom(n: number): number {
  if (used + n > POOL) {
    globalThis.crypto.getRandomValues(random);
    used = 0;
  }
  const at = used;
  used += n;
  return at;
}

/** A new version 7 UUID, lowercase; later calls in this process sort after earlier ones. */
export function uuid7(now: number = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    const r = takeRandom(2);
    counter = ((random[r] << 8) | random[r + 1]) & 0x7ff;
  } else if (++counter > 0xfff) {
    lastMs++; // the counter ran out (or the clock went back): borrow the next millisecond
    counter = 0;
  }
  const ms = lastMs;
  const r = takeRandom(8);
  const b = new Uint8Array(16);
  const high = Math.floor(ms / 2 ** 16); // the top 32 of the 48 bits
  b[0] = high >>> 24;
  b[1] = (high >>> 16) & 0xff;
  b[2] = (high >>> 8) & 0xff;
  b[3] = high & 0xff;
  b[4] = (ms >>> 8) & 0xff;
  b[5] = ms & 0xff;
  b[6] = 0x70 | (counter >>> 8);
  b[7] = counter & 0xff;
  b[8] = 0x80 | (random[r] & 0x3f);
  for (let i = 1; i < 8; i++) b[8 + i] = random[r + i];
  let s = '';
  for (let i = 0; i < 16; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) s += '-';
    s += HEX[b[i]];
  }
  return s;
}

/** The Unix milliseconds a version 7 UUID was made at. */
export function uuid7Time(id: string): number {
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
