// Byte helpers that work in Node and in browsers (plain Uint8Array, no Buffer).

/** Joins byte pieces into one new array of `total` bytes (their summed length). */
export function concatBytes(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
