import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chunkBuffer } from './fastcdc.ts';
import {
  ManifestDeltaError,
  REF_BYTES,
  decodeManifestDelta,
  encodeManifestDelta,
  fromBase64,
  packRefs,
  readManifestDeltaHeader,
  toBase64,
  unpackRefs,
} from './manifest-delta.ts';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Deterministic pseudo-random bytes (xorshift32), fast enough for 100 MB. */
function noise(size: number, seed = 1): Uint8Array {
  const out = new Uint8Array(size);
  const words = new Uint32Array(out.buffer, 0, size >>> 2);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return out;
}

const refsOf = (data: Uint8Array) => chunkBuffer(data).map((c) => ({ hash: sha(c), size: c.length }));
const ref = (i: number) => ({ hash: sha(Uint8Array.of(i & 255, i >> 8)), size: 1000 + i });

void test('pack/unpack and base64 round trip', () => {
  const refs = [ref(1), ref(2), ref(3)];
  const packed = packRefs(refs);
  assert.equal(packed.length, 3 * REF_BYTES);
  assert.deepEqual(unpackRefs(packed), refs);
  assert.deepEqual(fromBase64(toBase64(packed)), packed);
});

void test('full list (no base) round trips and states its ids', () => {
  const packed = packRefs([ref(1), ref(2)]);
  const id = sha(packed);
  const d = encodeManifestDelta(packed, null, { targetId: id });
  assert.deepEqual(readManifestDeltaHeader(d), { baseId: null, targetId: id, count: 2 });
  assert.deepEqual(decodeManifestDelta(d, null), packed);
});

void test('delta round trip: inserts, deletes, moves, repeats and an empty result', () => {
  const base = Array.from({ length: 200 }, (_, i) => ref(i));
  const cases = [
    base,
    [...base.slice(0, 50), ref(1000), ...base.slice(51)],
    [...base.slice(100), ...base.slice(0, 100)],
    [ref(5), ref(5), ref(5), ...base.slice(10, 20)],
    [],
    [ref(2000), ref(2001)],
  ];
  const packedBase = packRefs(base);
  for (const target of cases) {
    const packed = packRefs(target);
    const d = encodeManifestDelta(packed, packedBase, { baseId: sha(packedBase), targetId: sha(packed) });
    assert.equal(readManifestDeltaHeader(d).baseId, sha(packedBase));
    assert.deepEqual(unpackRefs(decodeManifestDelta(d, packedBase)), target);
  }
});

void test('decoder refuses malformed input', () => {
  const base = packRefs([ref(1), ref(2)]);
  const d = encodeManifestDelta(packRefs([ref(2), ref(1)]), base);
  assert.throws(() => decodeManifestDelta(d, null), ManifestDeltaError);
  assert.throws(() => decodeManifestDelta(d, base.subarray(0, REF_BYTES)), ManifestDeltaError);
  assert.throws(() => decodeManifestDelta(d.subarray(0, d.length - 1), base), ManifestDeltaError);
  assert.throws(() => decodeManifestDelta(Uint8Array.of(1, 2, 3), base), ManifestDeltaError);
  const bad = d.slice();
  bad[68] = 9; // declared count no longer matches the ops
  assert.throws(() => decodeManifestDelta(bad, base), ManifestDeltaError);
});

void test('10-byte insert into a 100 MB file: the delta is tiny and the sync stays within 128 KiB', () => {
  const before = noise(100 * 1024 * 1024, 7);
  const mid = before.length >> 1;
  const after = new Uint8Array(before.length + 10);
  after.set(before.subarray(0, mid));
  after.set(new TextEncoder().encode('0123456789'), mid);
  after.set(before.subarray(mid), mid + 10);

  const a = refsOf(before);
  const b = refsOf(after);
  assert.ok(a.length > 2500 && a.length < 4000, `${a.length} chunks`);
  const packedA = packRefs(a);
  const packedB = packRefs(b);
  const full = encodeManifestDelta(packedB, null);
  const delta = encodeManifestDelta(packedB, packedA, { baseId: sha(packedA), targetId: sha(packedB) });
  assert.ok(full.length > 100_000, `full list is ${full.length} bytes`);
  assert.ok(delta.length < 512, `delta is ${delta.length} bytes`);
  assert.deepEqual(decodeManifestDelta(delta, packedA), packedB);

  // What crosses the wire for this edit: the changed chunks once up and once down, plus the
  // delta once in the commit (base64) and once in the pull.
  const known = new Set(a.map((r) => r.hash));
  const changed = b.filter((r) => !known.has(r.hash));
  const changedBytes = changed.reduce((s, r) => s + r.size, 0);
  assert.ok(changed.length <= 2, `${changed.length} changed chunks`);
  const wire = 2 * changedBytes + Math.ceil((delta.length * 4) / 3) + delta.length;
  assert.ok(wire <= 128 * 1024, `payload ${wire} bytes`);
});
