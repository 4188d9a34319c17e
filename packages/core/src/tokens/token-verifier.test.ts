import { createHmac, generateKeyPairSync } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError, type ErrorCode } from '../errors.js';
import { checkUserClaims, type UserClaims } from './claims.js';
import { encodeSigningInput, signRs256 } from './jws-rs256.js';
import { KeyRing } from './key-ring.js';
import { RevocationSet } from './revocation-set.js';
import { importSigningKey, type SigningKey } from './signing-key.js';
import { MAX_TOKEN_BYTES, TokenVerifier } from './token-verifier.js';

function rsaKey(serial: number): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return importSigningKey({
    serial,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    createdAt: 0,
    origin: 'local',
  });
}

const key1 = rsaKey(1);
const key2 = rsaKey(2);
const stranger = rsaKey(1);

const NOW_S = 1_636_725_274;
const clock = createManualClock(NOW_S * 1000);
let keys: KeyRing;
let revocations: RevocationSet;
let verifier: TokenVerifier<UserClaims>;

beforeEach(() => {
  clock.set(NOW_S * 1000);
  keys = new KeyRing();
  keys.set(key1);
  keys.set(key2);
  revocations = new RevocationSet();
  verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims });
});

const claims = (extra: Record<string, unknown> = {}) => ({
  Name: 'john',
  Groups: ['team-a'],
  exp: NOW_S + 86_400,
  nbf: NOW_S - 300,
  iat: NOW_S,
  jti: 'bf3d0b2e-d840-4cb6-bf7c-b90f54391468',
  ...extra,
});

function sign(payload: object, header: Record<string, unknown> = {}, key: SigningKey = key2): Promise<string> {
  return signRs256({ alg: 'RS256', kid: String(key.serial), typ: 'JWT', ...header }, payload, key.privateKey!);
}

function refusal(token: string): MeshAuthError {
  try {
    verifier.verify(token);
  } catch (error) {
    expect(error).toBeInstanceOf(MeshAuthError);
    expect((error as MeshAuthError).status).toBe(401);
    if (token.length > 8) expect((error as MeshAuthError).message).not.toContain(token);
    return error as MeshAuthError;
  }
  throw new Error('expected the token to be refused');
}

function expectRefused(token: string, code: ErrorCode, message: RegExp): void {
  const error = refusal(token);
  expect({ code: error.code, message: error.message }).toEqual({ code, message: expect.stringMatching(message) });
}

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

describe('TokenVerifier accepts', () => {
  it('a token of a present key, returning its claims', async () => {
    expect(verifier.verify(await sign(claims()))).toEqual(claims());
    expect(verifier.verify(await sign(claims(), {}, key1))).toEqual(claims());
  });

  it('a token just inside nbf and exp', async () => {
    clock.set((NOW_S - 300) * 1000);
    expect(verifier.verify(await sign(claims())).Name).toBe('john');
    clock.set((NOW_S + 86_400) * 1000 - 1);
    expect(verifier.verify(await sign(claims())).Name).toBe('john');
  });
});

describe('TokenVerifier refuses, naming the reason', () => {
  it.each(['', 'abc', 'a.b', 'a.b.c.d', '.eyJ9.sig', 'a..sig', 'a+b.c.d', `${b64('{"alg":')}.${b64({})}.x`, `${b64([1])}.${b64({})}.x`])(
    'malformed %j',
    (token) => {
      expectRefused(token, 'ERR_TOKEN_MALFORMED', /^user token is malformed: /);
    },
  );

  it('a payload that is not JSON', () => {
    expectRefused(`${b64({ alg: 'RS256', kid: '2' })}.${b64('not json')}.sig`, 'ERR_TOKEN_MALFORMED', /payload is not JSON/);
  });

  it('alg none (unsigned)', () => {
    expectRefused(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims())}.`, 'ERR_TOKEN_ALG', /must be signed with RS256, got alg "none"/);
  });

  it('HS256 signed with the public key PEM as HMAC secret (alg confusion)', () => {
    for (const secret of [key2.publicPem, key2.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string]) {
      const input = encodeSigningInput({ alg: 'HS256', kid: '2', typ: 'JWT' }, claims());
      const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      expectRefused(token, 'ERR_TOKEN_ALG', /got alg "HS256"/);
    }
  });

  it.each([{ alg: 'RS512' }, { alg: 'rs256' }, {}])('alg other than exactly RS256 (%j)', (header) => {
    expectRefused(`${b64({ kid: '2', ...header })}.${b64(claims())}.c2ln`, 'ERR_TOKEN_ALG', /must be signed with RS256/);
  });

  it('a crit header', async () => {
    expectRefused(await sign(claims(), { crit: ['exp'] }), 'ERR_TOKEN_MALFORMED', /unsupported crit header/);
  });

  it('a missing kid', async () => {
    expectRefused(await sign(claims(), { kid: undefined }), 'ERR_TOKEN_KID', /must name its signing key serial in the kid header/);
  });

  it.each(['abc', '0', '01', '-1', '1.0', ' 1', '', '1e3', 2])('a kid that is not a serial (%j)', async (kid) => {
    expectRefused(await sign(claims(), { kid }), 'ERR_TOKEN_KID', /must name its signing key serial in the kid header/);
  });

  it('an unknown kid above every serial', async () => {
    expectRefused(await sign(claims(), { kid: '3' }), 'ERR_TOKEN_KID', /signed with unknown signing key 3/);
  });

  it('a kid whose key was rotated out, telling to regenerate', async () => {
    const token = await sign(claims(), {}, key1);
    keys.delete(1);
    expectRefused(token, 'ERR_TOKEN_KEY_ROTATED', /signed with signing key 1, which has been rotated out; regenerate the token/);
  });

  it('a bad signature: tampered payload, another key under a known kid, empty signature', async () => {
    const token = await sign(claims());
    const [h, , s] = token.split('.');
    expectRefused(`${h}.${b64(claims({ Groups: ['mesh-system:admin'] }))}.${s}`, 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
    expectRefused(await sign(claims(), { kid: '1' }, stranger), 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
    expectRefused(`${h}.${token.split('.')[1]}.`, 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
  });

  it('expired (at exp exactly)', async () => {
    const token = await sign(claims());
    clock.set((NOW_S + 86_400) * 1000);
    expectRefused(token, 'ERR_TOKEN_EXPIRED', /^user token expired at 2021-11-13T13:54:34.000Z$/);
  });

  it('not yet valid', async () => {
    clock.set((NOW_S - 301) * 1000);
    expectRefused(await sign(claims()), 'ERR_TOKEN_NOT_YET_VALID', /is not valid before 2021-11-12T13:49:34.000Z/);
  });

  it('revoked, and only by its own jti', async () => {
    revocations.add('another-jti');
    expect(verifier.verify(await sign(claims())).Name).toBe('john');
    revocations.add(claims().jti);
    expectRefused(await sign(claims()), 'ERR_TOKEN_REVOKED', /^user token is revoked$/);
  });

  it(`over ${MAX_TOKEN_BYTES} bytes, while one of exactly ${MAX_TOKEN_BYTES} passes`, async () => {
    let fits: string | undefined;
    let over: string | undefined;
    for (let n = 5_500; !over; n++) {
      const token = await sign(claims({ Groups: ['x'.repeat(n)] }));
      if (token.length <= MAX_TOKEN_BYTES) fits = token;
      else over = token;
    }
    expect(fits!.length).toBeGreaterThan(MAX_TOKEN_BYTES - 3);
    expect(verifier.verify(fits!).Name).toBe('john');
    expectRefused(over, 'ERR_TOKEN_MALFORMED', /larger than 8192 bytes/);
  });

  it.each([
    [{ Name: 42 }, /claim Name must be a non-empty string/],
    [{ Name: '' }, /claim Name must be a non-empty string/],
    [{ Groups: 'team-a' }, /claim Groups must be a list of strings/],
    [{ Groups: [1] }, /claim Groups must be a list of strings/],
    [{ exp: String(NOW_S + 86_400) }, /claim exp must be a number/],
    [{ nbf: null }, /claim nbf must be a number/],
    [{ iat: undefined }, /claim iat must be a number/],
    [{ jti: 7 }, /claim jti must be a non-empty string/],
    [{ jti: undefined }, /claim jti must be a non-empty string/],
  ])('claims of the wrong type %j', async (extra, message) => {
    expectRefused(await sign(claims(extra)), 'ERR_TOKEN_CLAIMS', message);
  });
});

describe('TokenVerifier cache', () => {
  it('applies a revocation to the very next call', async () => {
    const token = await sign(claims());
    verifier.verify(token);
    revocations.add(claims().jti);
    expectRefused(token, 'ERR_TOKEN_REVOKED', /revoked/);
    revocations.delete(claims().jti);
    expect(verifier.verify(token).Name).toBe('john');
  });

  it('applies expiry to the very next call', async () => {
    const token = await sign(claims());
    verifier.verify(token);
    clock.advance(86_400_000);
    expectRefused(token, 'ERR_TOKEN_EXPIRED', /expired/);
  });

  it('applies a key removal, and a replaced key, to the very next call', async () => {
    const token = await sign(claims());
    verifier.verify(token);
    keys.delete(2);
    expectRefused(token, 'ERR_TOKEN_KEY_ROTATED', /signing key 2, which has been rotated out/);
    keys.set(rsaKey(2));
    expectRefused(token, 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
    keys.set(key2);
    expect(verifier.verify(token).Name).toBe('john');
  });

  it('applies refuseKey on every call', async () => {
    let refuse: string | undefined;
    verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims, refuseKey: () => refuse });
    const token = await sign(claims());
    verifier.verify(token);
    refuse = 'cut off from global too long';
    expectRefused(token, 'ERR_TOKEN_SYNC_STALE', /^cut off from global too long$/);
  });

  it('hits only on the exact text verified: a token sharing its signature tail is verified afresh', async () => {
    const token = await sign(claims());
    verifier.verify(token);
    const [, , signature] = token.split('.');
    const forged = `${b64({ alg: 'RS256', kid: '2', typ: 'JWT' })}.${b64(claims({ Name: 'admin', Groups: ['mesh-system:admin'] }))}.${signature}`;
    expect(forged.slice(-32)).toBe(token.slice(-32));
    expectRefused(forged, 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
    expect(verifier.verify(token).Name).toBe('john');
  });

  it('never caches a refused token', async () => {
    const token = await sign(claims());
    revocations.add(claims().jti);
    refusal(token);
    revocations.delete(claims().jti);
    keys.delete(2);
    expectRefused(token, 'ERR_TOKEN_KEY_ROTATED', /signing key 2, which has been rotated out/);
  });
});

describe('TokenVerifier keys and cache bounds', () => {
  it('verifies a multi-digit kid with its own key, not the key of its first digit', async () => {
    const key10 = rsaKey(10);
    keys.set(key10);
    expect(verifier.verify(await sign(claims(), {}, key10)).Name).toBe('john');
    expectRefused(await sign(claims(), { kid: '10' }, key1), 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
    expectRefused(await sign(claims(), { kid: '1' }, key10), 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
  });

  // A hit hands back the claims object verified before (the authenticator keys identities by it).
  it('remembers at most cacheSize tokens, forgetting the oldest first', async () => {
    verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims, cacheSize: 2 });
    const [a, b, c] = await Promise.all(['a', 'b', 'c'].map((jti) => sign(claims({ jti }))));
    const first = [a!, b!].map((t) => verifier.verify(t));
    expect([a!, b!].map((t) => verifier.verify(t))).toEqual(first);
    expect(verifier.verify(a!)).toBe(first[0]);
    expect(verifier.verify(b!)).toBe(first[1]);
    const third = verifier.verify(c!);
    expect(verifier.verify(c!)).toBe(third);
    expect(verifier.verify(b!)).toBe(first[1]);
    const again = verifier.verify(a!);
    expect(again).not.toBe(first[0]);
    expect(again).toEqual(first[0]);
  });

  it('remembers nothing with cacheSize 0', async () => {
    verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims, cacheSize: 0 });
    const token = await sign(claims());
    const first = verifier.verify(token);
    expect(verifier.verify(token)).not.toBe(first);
  });

  it('remembers a token by default', async () => {
    const token = await sign(claims());
    expect(verifier.verify(token)).toBe(verifier.verify(token));
  });
});
