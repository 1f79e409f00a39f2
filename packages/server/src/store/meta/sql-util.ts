// Small helpers shared by the SQL stores: unique-violation detection and row conversion.

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
