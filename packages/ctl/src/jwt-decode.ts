import { TokenError } from './errors.js';

export interface DecodedJwt {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** base64url, as in the token. */
  signature: string;
  /** `header.payload`, the bytes the signature covers. */
  signingInput: string;
}

/** Splits and decodes a compact JWS without checking anything but its structure. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.trim().split('.');
  if (parts.length !== 3) {
    throw new TokenError(`malformed token: expected 3 dot-separated parts, got ${parts.length}`);
  }
  const [header, payload, signature] = parts as [string, string, string];
  return {
    header: decodePart(header, 'header'),
    payload: decodePart(payload, 'payload'),
    signature,
    signingInput: `${header}.${payload}`,
  };
}

function decodePart(part: string, name: string): Record<string, unknown> {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) throw new TokenError(`malformed token: the ${name} is not base64url`);
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new TokenError(`malformed token: the ${name} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TokenError(`malformed token: the ${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
