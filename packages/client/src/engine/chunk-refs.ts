// Packed chunk refs: 36 bytes per chunk (32-byte SHA-256 + uint32 BE size), the same form the
// server stores and hashes into a manifest id. Helpers to walk them with their file offsets.

import { createHash } from 'node:crypto';

export const REF_BYTES = 36;

export interface ChunkRef {
  hash: string;
  size: number;
  offset: number;
}

export function packRefs(refs: { hash: string; size: number }[]): Uint8Array {
  const out = Buffer.alloc(refs.length * REF_BYTES);
  refs.forEach((r, i) => {
    out.write(r.hash, i * REF_BYTES, 32, 'hex');
    out.writeUInt32BE(r.size, i * REF_BYTES + 32);
  });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

export function unpackRefs(packed: Uint8Array): ChunkRef[] {
  const b = Buffer.from(packed.buffer, packed.byteOffset, packed.byteLength);
  const out: ChunkRef[] = [];
  let offset = 0;
  for (let at = 0; at + REF_BYTES <= b.length; at += REF_BYTES) {
    const size = b.readUInt32BE(at + 32);
    out.push({ hash: b.toString('hex', at, at + 32), size, offset });
    offset += size;
  }
  return out;
}

export function manifestIdOf(packed: Uint8Array): string {
  return createHash('sha256').update(packed).digest('hex');
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
}

export function fromHex(s: string): Uint8Array {
  const b = Buffer.from(s, 'hex');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}
