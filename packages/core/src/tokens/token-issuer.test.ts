import { generateKeyPairSync } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, exportJWK, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError } from '../errors.js';
import { KeyRing } from './key-ring.js';
import { importSigningKey, type SigningKey } from './signing-key.js';
import { TokenIssuer } from './token-issuer.js';

function rsaKey(serial: number, withPrivate = true): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return importSigningKey({
    serial,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: withPrivate ? (privateKey.export({ type: 'pkcs1', format: 'pem' }) as string) : null,
    createdAt: 0,
    origin: 'local',
  });
}

const key1 = rsaKey(1);
const NOW_MS = 1_636_725_274_500;
const clock = createManualClock(NOW_MS);
const DAY_MS = 86_400_000;

function decode(token: string): { header: unknown; payload: Record<string, unknown> } {
  const [h, p] = token.split('.');
  return { header: JSON.parse(Buffer.from(h!, 'base64url').toString()), payload: JSON.parse(Buffer.from(p!, 'base64url').toString()) };
}

async function jwksOf(keys: SigningKey[]) {
  return createLocalJWKSet({
    keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: String(k.serial), alg: 'RS256', use: 'sig' }))),
  });
}

describe('TokenIssuer', () => {
  const ring = new KeyRing();
  ring.set(key1);
  const issuer = new TokenIssuer(ring, clock, 'user token');

  it("signs the docs' token: exact header, exact claims in order, exp - iat = validFor, iat - nbf = 300", async () => {
    const token = await issuer.issue({ Name: 'john', Groups: ['team-a'] }, DAY_MS);
    const raw = Buffer.from(token.split('.')[0]!, 'base64url').toString();
    expect(raw).toBe('{"alg":"RS256","kid":"1","typ":"JWT"}');
    const { payload } = decode(token);
    expect(Object.keys(payload)).toEqual(['Name', 'Groups', 'exp', 'nbf', 'iat', 'jti']);
    const iat = Math.floor(NOW_MS / 1000);
    expect(payload).toEqual({ Name: 'john', Groups: ['team-a'], exp: iat + 86_400, nbf: iat - 300, iat, jti: payload.jti });
    expect(payload.jti).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('gives every token its own jti', async () => {
    const jtis = new Set<unknown>();
    for (let i = 0; i < 20; i++) jtis.add(decode(await issuer.issue({ Name: 'john', Groups: [] }, DAY_MS)).payload.jti);
    expect(jtis.size).toBe(20);
  });

  it('issues tokens an independent library (jose) verifies against the JWKS', async () => {
    const token = await issuer.issue({ Name: 'john', Groups: ['team-a'] }, 90 * 60_000);
    const { payload, protectedHeader } = await jwtVerify(token, await jwksOf([key1]), {
      algorithms: ['RS256'],
      currentDate: new Date(NOW_MS),
      typ: 'JWT',
    });
    expect(protectedHeader).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(payload.Name).toBe('john');
    expect(payload.exp! - payload.iat!).toBe(5_400);

    await expect(jwtVerify(token, await jwksOf([rsaKey(1)]), { currentDate: new Date(NOW_MS) })).rejects.toThrow(/signature verification failed/);
  });

  it('signs with the highest serial that has a private key', async () => {
    const ring2 = new KeyRing();
    const key2 = rsaKey(2);
    ring2.set(key1);
    ring2.set(key2);
    ring2.set(rsaKey(3, false));
    const token = await new TokenIssuer(ring2, clock, 'user token').issue({ Name: 'john', Groups: [] }, DAY_MS);
    expect(decodeProtectedHeader(token).kid).toBe('2');
    await jwtVerify(token, await jwksOf([key2]), { currentDate: new Date(NOW_MS) });
  });

  it('refuses with 409 when it holds no private key', async () => {
    const verifyOnly = new KeyRing();
    verifyOnly.set(rsaKey(1, false));
    const error = await new TokenIssuer(verifyOnly, clock, 'user token').issue({ Name: 'john', Groups: [] }, DAY_MS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshAuthError);
    expect((error as MeshAuthError).code).toBe('ERR_CONFLICT');
    expect((error as MeshAuthError).message).toBe('no private user token signing key here to sign with');
  });
});
