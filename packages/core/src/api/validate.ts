import { badRequest } from '../errors.js';
import { yieldToLoop } from '../yield-to-loop.js';
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

/**
 * Strict base64 (what `base64` prints); returns the bytes. Node's decoder skips what is not base64,
 * so the bytes are encoded again and must give back the text: one pass each way in native code,
 * where a regular expression over a 49 MB revocation list held the event loop for half a second.
 */
export function decodeBase64(value: string, field = 'data'): Buffer {
  const bytes = Buffer.from(value, 'base64');
  if (bytes.toString('base64') !== value) throw badRequest(field, 'must be base64');
  return bytes;
}

/** Base64 characters `decodeBase64InSlices` takes at a time (a multiple of 4: whole groups). */
export const BASE64_SLICE_CHARS = 1 << 20;

/**
 * The same check and bytes as `decodeBase64`, a slice at a time with the event loop let through
 * between slices: a 49 MB revocation list decoded at once held every request up for a fifth of a
 * second. Padding is only allowed at the very end, as in the whole string.
 */
export async function decodeBase64InSlices(value: string, field = 'data'): Promise<Buffer> {
  if (value.length <= BASE64_SLICE_CHARS) return decodeBase64(value, field);
  if (value.length % 4 !== 0) throw badRequest(field, 'must be base64');
  const out = Buffer.allocUnsafe((value.length / 4) * 3);
  let written = 0;
  for (let start = 0; start < value.length; start += BASE64_SLICE_CHARS) {
    const piece = value.slice(start, start + BASE64_SLICE_CHARS);
    const bytes = decodeBase64(piece, field);
    const last = start + BASE64_SLICE_CHARS >= value.length;
    if (!last && bytes.length !== (piece.length / 4) * 3) throw badRequest(field, 'must be base64');
    written += bytes.copy(out, written);
    await yieldToLoop();
  }
  return out.subarray(0, written);
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
