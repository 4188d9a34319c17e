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
    expectRefused(await sign(claims(), { kid: '3' }), 'ERR_TOKEN_KID', /signed with an unknown key \(kid 3\)/);
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

describe('TokenVerifier.hold', () => {
  const recheckRefusal = (recheck: () => void): { code: string; message: string } => {
    try {
      recheck();
    } catch (error) {
      expect(error).toBeInstanceOf(MeshAuthError);
      return { code: (error as MeshAuthError).code, message: (error as MeshAuthError).message };
    }
    throw new Error('expected the held token to be refused');
  };

  it('verifies like verify, and refuses at once what verify refuses', async () => {
    expect(verifier.hold(await sign(claims())).claims.Name).toBe('john');
    const revoked = await sign(claims({ jti: 'revoked-before-hold' }));
    revocations.add('revoked-before-hold');
    expect(() => verifier.hold(revoked)).toThrow(/user token is revoked/);
  });

  it('rechecks revocation, expiry and key removal on every call', async () => {
    const held = verifier.hold(await sign(claims()));
    held.recheck();
    revocations.add(claims().jti);
    expect(recheckRefusal(held.recheck)).toEqual({ code: 'ERR_TOKEN_REVOKED', message: 'user token is revoked' });
    revocations.delete(claims().jti);
    held.recheck();
    keys.delete(2);
    expect(recheckRefusal(held.recheck)).toMatchObject({ code: 'ERR_TOKEN_KEY_ROTATED' });
    keys.set(rsaKey(2));
    expect(recheckRefusal(held.recheck)).toMatchObject({ code: 'ERR_TOKEN_SIGNATURE' });
    keys.set(key2);
    held.recheck();
    clock.advance(86_400_000);
    expect(recheckRefusal(held.recheck)).toMatchObject({ code: 'ERR_TOKEN_EXPIRED' });
  });

  it('keeps working after the shared cache has dropped the token', async () => {
    verifier = new TokenVerifier<UserClaims>({ keys, revocations, clock, label: 'user token', checkClaims: checkUserClaims, cacheSize: 1 });
    const held = verifier.hold(await sign(claims()));
    verifier.verify(await sign(claims({ jti: 'another' })));
    held.recheck();
    revocations.add(claims().jti);
    expect(recheckRefusal(held.recheck)).toMatchObject({ code: 'ERR_TOKEN_REVOKED' });
  });
});

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** The other spellings of a base64url part: same bytes, last character's unused low bits set. */
function respellings(part: string): string[] {
  const unused = { 2: 0x0f, 3: 0x03 }[part.length % 4 as 2 | 3];
  if (unused === undefined) throw new Error(`a part of length ${part.length} has a single spelling`);
  const value = ALPHABET.indexOf(part.at(-1)!);
  expect(value & unused).toBe(0);
  const others = [];
  for (let bits = 1; bits <= unused; bits++) others.push(part.slice(0, -1) + ALPHABET[value | bits]);
  for (const other of others) expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(part, 'base64url'));
  return others;
}

describe('TokenVerifier: one spelling per token', () => {
  it('refuses the 15 other spellings of a valid signature as malformed, even once the real token is cached', async () => {
    const token = await sign(claims());
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(s.length % 4).toBe(2); // 256 bytes: 4 unused bits in the last character
    expect(verifier.verify(token).Name).toBe('john');
    const others = respellings(s);
    expect(others).toHaveLength(15);
    for (const other of others) {
      expectRefused(`${h}.${p}.${other}`, 'ERR_TOKEN_MALFORMED', /^user token is malformed: signature is not canonical base64url \(unused bits set\)$/);
    }
    // Refused before any cache entry of theirs could exist; the real token still hits.
    expect(verifier.verify(token).Name).toBe('john');
  });

  it('refuses a re-spelled header or payload as malformed, not as a bad signature', async () => {
    // A header and a payload whose lengths leave unused bits in their last character.
    let token = '';
    for (let pad = ''; ; pad += 'a') {
      token = await sign(claims({ Name: `jo${pad}` }), { x: pad });
      const [h, p] = token.split('.') as [string, string];
      if (h.length % 4 >= 2 && p.length % 4 >= 2) break;
    }
    const [h, p, s] = token.split('.') as [string, string, string];
    expect(verifier.verify(token).Name).toMatch(/^jo/);
    for (const other of respellings(h)) expectRefused(`${other}.${p}.${s}`, 'ERR_TOKEN_MALFORMED', /: header is not canonical base64url \(unused bits set\)$/);
    for (const other of respellings(p)) expectRefused(`${h}.${other}.${s}`, 'ERR_TOKEN_MALFORMED', /: payload is not canonical base64url \(unused bits set\)$/);
  });

  it('refuses a part of impossible length (one character past a whole group)', async () => {
    const impossible = (part: string) => part + 'A'.repeat((5 - (part.length % 4)) % 4);
    const [h, p, s] = (await sign(claims())).split('.') as [string, string, string];
    expectRefused(`${impossible(h)}.${p}.${s}`, 'ERR_TOKEN_MALFORMED', /: header is not base64url \(impossible length\)$/);
    expectRefused(`${h}.${impossible(p)}.${s}`, 'ERR_TOKEN_MALFORMED', /: payload is not base64url \(impossible length\)$/);
    expectRefused(`${h}.${p}.${impossible(s)}`, 'ERR_TOKEN_MALFORMED', /: signature is not base64url \(impossible length\)$/);
  });
});

describe('TokenVerifier.checkSignature (for revoking a token)', () => {
  const check = (token: string) => verifier.checkSignature(token);
  const reencoded = async (change: Record<string, unknown>) => {
    const [h, , s] = (await sign(claims())).split('.');
    return `${h}.${b64(claims(change))}.${s}`;
  };

  it('returns the claims of a token whose signature verifies', async () => {
    expect(check(await sign(claims()))).toEqual({ verified: true, claims: claims() });
  });

  it('verifies an expired, a not yet valid and a revoked token all the same: time and revocation are set aside', async () => {
    const token = await sign(claims());
    revocations.add(claims().jti);
    clock.set((NOW_S + 86_400 * 2) * 1000);
    expect(check(token)).toEqual({ verified: true, claims: claims() });
    clock.set((NOW_S - 3600) * 1000);
    expect(check(token)).toEqual({ verified: true, claims: claims() });
  });

  it.each([
    ['exp moved to 1970', { exp: 1 }],
    ['another jti', { jti: '00000000-0000-4000-8000-000000000000' }],
  ])('refuses a copy of a real token with %s: bad signature', async (_what, change) => {
    const forged = await reencoded(change);
    expect(() => check(forged)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SIGNATURE', message: 'user token signature is invalid' }));
  });

  it.each([
    ['malformed', 'a.b', 'ERR_TOKEN_MALFORMED'],
    ['alg none', `${b64({ alg: 'none' })}.${b64(claims())}.`, 'ERR_TOKEN_ALG'],
    ['kid that is not a serial', `${b64({ alg: 'RS256', kid: '../1' })}.${b64(claims())}.c2ln`, 'ERR_TOKEN_KID'],
  ])('refuses a %s token as verify does', (_what, token, code) => {
    expect(() => check(token)).toThrow(expect.objectContaining({ code }));
  });

  it('refuses a signed token whose claims are of the wrong type', async () => {
    const token = await sign(claims({ jti: 7 }));
    expect(() => check(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_CLAIMS' }));
  });

  it('reports a token whose key is gone as unverified, with its payload and why, without trusting it', async () => {
    const token = await sign(claims(), {}, key1);
    keys.delete(1);
    expect(check(token)).toEqual({
      verified: false,
      payload: claims(),
      reason: 'user token was signed with signing key 1, which has been rotated out; regenerate the token',
    });
    expect(check(await sign(claims(), { kid: '9' }))).toMatchObject({ verified: false, reason: expect.stringMatching(/an unknown key \(kid 9\)/) });
  });

  it('neither reads nor fills the cache', async () => {
    const token = await sign(claims());
    check(token);
    keys.set(rsaKey(2));
    expect(() => check(token)).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_SIGNATURE' }));
    expectRefused(token, 'ERR_TOKEN_SIGNATURE', /signature is invalid/);
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
