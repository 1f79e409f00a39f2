// Small helpers shared by the SQL stores: unique-violation detection, row conversion, and the
// fixed statement sizes of multi-row SQL.

import { FerryError } from '@ferry/core/errors';

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; errcode?: number; message?: string };
  return (
    err?.code === '23505' ||
    err?.errcode === 2067 ||
    err?.errcode === 1555 ||
    /UNIQUE constraint failed/.test(err?.message ?? '')
  );
}

/** Runs an insert, turning a unique clash into ALREADY_EXISTS. */
export async function uniquely<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (isUniqueViolation(e)) throw new FerryError('ALREADY_EXISTS', `${what} already exists`);
    throw e;
  }
}

export const num = (v: unknown): number => Number(v);
export const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
export const bool = (v: unknown): boolean => v === true || Number(v) === 1;
export const strOrNull = (v: unknown): string | null =>
  v === null || v === undefined
    ? null
    : typeof v === 'string'
      ? v
      : typeof v === 'number' || typeof v === 'bigint'
        ? v.toString()
        : JSON.stringify(v);

// Multi-row statements come in a few fixed sizes only: few JS↔SQL round trips, and a small, bounded
// set of prepared statements (the SQLite driver caches one per distinct SQL text for the server's
// life, and one with a few hundred parameters is ~40 KB: batching to any length up to 400 left
// 84 such statements cached after one 302 MiB sync, and up to 400 per query over time).
const RUN_SIZES = [256, 64, 16, 4, 1];

/** Splits `items` into runs of the fixed sizes, largest first. */
export function* runs<T>(items: readonly T[]): Generator<T[]> {
  let i = 0;
  for (const size of RUN_SIZES) {
    while (items.length - i >= size) {
      yield items.slice(i, i + size);
      i += size;
    }
  }
}
