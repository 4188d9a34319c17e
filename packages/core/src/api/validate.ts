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

/** A `limit` query parameter already checked by its `limitQuery` schema; `fallback` when absent. */
export function parseLimit(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Number(value);
}

/** The JSON schema of a `limit` query parameter at most `max` (query strings are strings: no type coercion here). */
export function limitQuery(max: number) {
  return { type: 'string', pattern: '^[1-9][0-9]{0,5}$', 'x-at-most': max, description: `A decimal integer, at most ${max}` } as const;
}

/** The JSON schema of every `validFor` (checked by the x-duration keyword, see schema-keywords.ts). */
export const validForSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 64,
  'x-duration': true,
  description: 'Go duration (24h, 1h30m, 90s): at least 1s, at most apiServer.authn.tokens.maxValidFor (8760h by default)',
  examples: ['24h'],
} as const;

/** Strict base64 (checked by the x-base64 keyword). */
export const base64Schema = { type: 'string', 'x-base64': true, description: 'base64 of the value' } as const;
