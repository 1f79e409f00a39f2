// The benchmark corpus of the issues: 2,003 files, 302 MiB — three 50 MiB files and 2,000 files
// with log-normal sizes (median 16 KiB), half incompressible (random), half compressible (text).
// Deterministic for a seed, so every run and every tool sees the same bytes.

import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createCipheriv } from 'node:crypto';

export interface CorpusFile {
  path: string;
  size: number;
}

const MiB = 1024 * 1024;

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
}

/** Pseudo-random bytes from AES-CTR: fast, incompressible, reproducible. */
export function randomStream(size: number, seed: number): Buffer {
  const key = Buffer.alloc(32, 0);
  key.writeUInt32BE(seed >>> 0, 0);
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16, 0));
  return cipher.update(Buffer.alloc(size));
}

const WORDS =
  'ferry sync offline chunk device server version trash share space photo document upload conflict the of and to in is for'.split(
    ' ',
  );

export function textBytes(size: number, seed: number): Buffer {
  const r = rng(seed);
  const parts: string[] = [];
  let n = 0;
  while (n < size) {
    const w = WORDS[Math.floor(r() * WORDS.length)] + (r() < 0.1 ? '.\n' : ' ');
    parts.push(w);
    n += w.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/** The file list: sizes scaled so the total is exactly `totalMiB`. */
export function corpusPlan({
  smallFiles = 2000,
  bigFiles = 3,
  bigSize = 50 * MiB,
  totalMiB = 302,
  seed = 1,
} = {}): CorpusFile[] {
  const r = rng(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const raw = Array.from({ length: smallFiles }, () => Math.exp(Math.log(16 * 1024) + 1.79 * gauss()));
  const target = totalMiB * MiB - bigFiles * bigSize;
  const scale = target / raw.reduce((a, b) => a + b, 0);
  const sizes = raw.map((s) => Math.max(1, Math.round(s * scale)));
  sizes[0] += target - sizes.reduce((a, b) => a + b, 0);
  const files: CorpusFile[] = sizes.map((size, i) => ({
    path: `/corpus/d${i % 40}/f${i}.${i % 2 ? 'bin' : 'txt'}`,
    size,
  }));
  for (let i = 0; i < bigFiles; i++) files.push({ path: `/corpus/big/big${i}.bin`, size: bigSize });
  return files;
}

/**
 * Content of file i: odd files and big files incompressible, even small files text. `variant` > 0
 * gives other bytes of the same sizes (a repeated run that would otherwise find every chunk on the
 * server already); variant 0 is the corpus every earlier figure was measured on.
 */
export function corpusContent(f: CorpusFile, i: number, variant = 0): Buffer {
  const seed = i + 1 + variant * 1_000_003;
  return f.path.endsWith('.txt') ? textBytes(f.size, seed) : randomStream(f.size, seed);
}

export async function writeCorpus(dir: string, files = corpusPlan(), variant = 0): Promise<void> {
  for (const [i, f] of files.entries()) {
    const p = join(dir, f.path);
    await mkdir(join(p, '..'), { recursive: true });
    await writeFile(p, corpusContent(f, i, variant));
  }
}

/** The second workload: 5,000 files of 4 KB in 50 folders under `dir/small` (`variant` as above). */
export async function writeSmallFiles(dir: string, variant = 0): Promise<void> {
  const all = randomStream(5000 * 4096, 7 + 1000 * variant);
  for (let d = 0; d < 50; d++) await mkdir(join(dir, 'small', `d${d}`), { recursive: true });
  for (let f = 0; f < 5000; f++)
    await writeFile(join(dir, 'small', `d${f % 50}`, `f${f}.bin`), all.subarray(f * 4096, (f + 1) * 4096));
}
