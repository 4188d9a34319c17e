import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { Jwks } from '../token-verification.js';

export interface TestKey {
  kid: string;
  privateKey: KeyObject;
  jwks: Jwks;
}

export function testKey(kid: string): TestKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { kid, privateKey, jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' }] } };
}

/** A user token shaped like the control planes' (spec section 3), signed RS256 with `key`. */
export function signToken(key: TestKey, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${b64({ alg: 'RS256', kid: key.kid, typ: 'JWT', ...header })}.${b64(payload)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key.privateKey).toString('base64url')}`;
}

export function userClaims(nowSeconds: number, validForSeconds = 3600): Record<string, unknown> {
  return {
    Name: 'john',
    Groups: ['team-a'],
    exp: nowSeconds + validForSeconds,
    nbf: nowSeconds - 300,
    iat: nowSeconds,
    jti: 'bf3d0b2e-d840-4cb6-bf7c-b90f54391468',
  };
}
