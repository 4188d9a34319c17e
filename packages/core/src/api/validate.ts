import { badRequest } from '../errors.js';
import { parseDuration } from '../duration.js';

/** `validFor` as a Go duration, > 0 and at most the configured maximum; returns ms. */
export function parseValidFor(value: string, maxMs: number, field = 'validFor'): number {
  let ms: number;
  try {
    ms = parseDuration(value);
  } catch (error) {
    throw badRequest(field, (error as Error).message);
  }
  if (ms < 1000) throw badRequest(field, `must be at least 1s, got ${JSON.stringify(value)}`);
  if (ms > maxMs) throw badRequest(field, `must be at most ${maxMs / 3_600_000}h, got ${JSON.stringify(value)}`);
  return ms;
}

export const resourceNamePattern = '^[a-zA-Z0-9]([a-zA-Z0-9._-]{0,251}[a-zA-Z0-9])?$';
export const meshNamePattern = '^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$';

/** Strict base64 (what `base64` prints); returns the bytes. */
export function decodeBase64(value: string, field = 'data'): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) throw badRequest(field, 'must be base64');
  return Buffer.from(value, 'base64');
}

/** A `limit` query parameter already matched by `limitQuery`: at most `max`, `fallback` when absent. */
export function parseLimit(value: string | undefined, fallback: number, max: number, field = 'limit'): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (n > max) throw badRequest(field, `must be at most ${max}, got ${n}`);
  return n;
}

/** The JSON schema of a `limit` query parameter (query strings are strings: no type coercion here). */
export const limitQuery = { type: 'string', pattern: '^[1-9][0-9]{0,5}$' } as const;
