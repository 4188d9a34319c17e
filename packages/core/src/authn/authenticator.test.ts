import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../clock.js';
import { MeshAuthError } from '../errors.js';
import { checkUserClaims, type UserClaims } from '../tokens/claims.js';
import { KeyRing } from '../tokens/key-ring.js';
import { RevocationSet } from '../tokens/revocation-set.js';
import { importSigningKey } from '../tokens/signing-key.js';
import { TokenIssuer } from '../tokens/token-issuer.js';
import { TokenVerifier } from '../tokens/token-verifier.js';
import { bearerToken, createAuthenticator } from './authenticator.js';
import { admin, anonymous } from './identity.js';

const clock = createManualClock(1_700_000_000_000);
const keys = new KeyRing();
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
keys.set(
  importSigningKey({
    serial: 1,
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
    privatePem: privateKey.export({ type: 'pkcs1', format: 'pem' }) as string,
    createdAt: 0,
    origin: 'local',
  }),
);
const userTokens = new TokenVerifier<UserClaims>({ keys, revocations: new RevocationSet(), clock, label: 'user token', checkClaims: checkUserClaims });
const issuer = new TokenIssuer(keys, clock, 'user token');
const fromLocalhost = { remoteAddress: '127.0.0.1', target: '/who-am-i', clientCertVerified: false };

describe('bearerToken', () => {
  it('reads Authorization and the docs’ authentication header', () => {
    expect(bearerToken({ authorization: 'Bearer abc' })).toBe('abc');
    expect(bearerToken({ authentication: 'bearer  abc ' })).toBe('abc');
    expect(bearerToken({})).toBeUndefined();
  });

  it.each(['Basic abc', 'Bearer', 'Bearer  ', 'abc'])('refuses %j as malformed', (value) => {
    expect(() => bearerToken({ authorization: value })).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED' }));
  });
});

describe('createAuthenticator (tokens)', () => {
  const authenticate = createAuthenticator({ type: 'tokens', localhostIsAdmin: true, userTokens });

  it('makes a token holder that user plus mesh-system:authenticated, via either header', async () => {
    const token = await issuer.issue({ Name: 'john', Groups: ['team-a'] }, 3_600_000);
    const john = { name: 'john', groups: ['team-a', 'mesh-system:authenticated'] };
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost', authorization: `Bearer ${token}` } })).toEqual(john);
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost', authentication: `Bearer ${token}` } })).toEqual(john);
  });

  it('never falls back to localhost admin when a token is bad', () => {
    expect(() => authenticate({ ...fromLocalhost, headers: { host: 'localhost', authorization: 'Bearer x.y.z' } })).toThrow(MeshAuthError);
  });

  it('refuses a token with whitespace inside as malformed, even when its pieces were verified', async () => {
    const token = await issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    authenticate({ ...fromLocalhost, headers: { authorization: `Bearer ${token}` } });
    const [header, payload, signature] = token.split('.');
    for (const spaced of [`${header}.${payload} .${signature}`, `${header}.${payload}.${signature!.slice(0, 100)} ${signature!.slice(100)}`, 'a b']) {
      expect(() => authenticate({ ...fromLocalhost, headers: { authorization: `Bearer ${spaced}` } })).toThrow(
        expect.objectContaining({ code: 'ERR_TOKEN_MALFORMED', message: expect.stringMatching(/^user token is malformed/) }),
      );
    }
  });

  it('makes a tokenless local request admin, anything else anonymous', () => {
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost' } })).toBe(admin);
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost', 'x-forwarded-for': '1.2.3.4' } })).toBe(anonymous);
    expect(authenticate({ remoteAddress: '10.1.1.1', target: '/', clientCertVerified: false, headers: { host: 'localhost' } })).toBe(anonymous);
  });

  it('makes nobody admin by address when localhostIsAdmin is off', () => {
    const strict = createAuthenticator({ type: 'tokens', localhostIsAdmin: false, userTokens });
    expect(strict({ ...fromLocalhost, headers: { host: 'localhost' } })).toBe(anonymous);
  });
});

describe('createAuthenticator (adminClientCerts)', () => {
  const authenticate = createAuthenticator({ type: 'adminClientCerts', localhostIsAdmin: false, userTokens });

  it('makes a verified client certificate admin and ignores tokens', async () => {
    const token = await issuer.issue({ Name: 'john', Groups: [] }, 3_600_000);
    expect(authenticate({ remoteAddress: '10.1.1.1', target: '/', clientCertVerified: true, headers: {} })).toBe(admin);
    expect(authenticate({ remoteAddress: '10.1.1.1', target: '/', clientCertVerified: false, headers: { authorization: `Bearer ${token}` } })).toBe(anonymous);
  });

  it('makes a tokenless local request without a certificate admin only when localhostIsAdmin is on', () => {
    // Both conditions, not either: a local request must not pass because the rule is off, nor a
    // remote one because the rule is on.
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost' } })).toBe(anonymous);
    const lenient = createAuthenticator({ type: 'adminClientCerts', localhostIsAdmin: true, userTokens });
    expect(lenient({ ...fromLocalhost, headers: { host: 'localhost' } })).toBe(admin);
    expect(lenient({ remoteAddress: '10.1.1.1', target: '/', clientCertVerified: false, headers: { host: 'localhost' } })).toBe(anonymous);
  });
});

describe('bearerToken header forms', () => {
  it.each([
    [{ authorization: 'BEARER abc' }, 'abc'],
    [{ authorization: 'Bearer\tabc' }, 'abc'],
    [{ authorization: 'Bearer   abc\t ' }, 'abc'],
    [{ authorization: ['Bearer abc', 'Bearer def'] }, 'abc'],
    [{ authorization: 'Bearer abc', authentication: 'Bearer def' }, 'abc'],
    [{ authentication: 'Bearer def' }, 'def'],
  ])('reads %j as %j', (headers, token) => {
    expect(bearerToken(headers)).toBe(token);
  });

  it.each([{ authorization: 'Bearerabc' }, { authorization: [] }, { authorization: '' }, { authentication: 'Token abc' }])('refuses %j', (headers) => {
    expect(() => bearerToken(headers)).toThrow(new MeshAuthError('ERR_TOKEN_MALFORMED', 'the Authorization header must be "Bearer <token>"'));
  });
});

describe('createAuthenticator identities', () => {
  it('hands back the same identity while the verifier remembers the token, and a new one for another token', async () => {
    const authenticate = createAuthenticator({ type: 'tokens', localhostIsAdmin: false, userTokens });
    const [john, jane] = await Promise.all([issuer.issue({ Name: 'john', Groups: [] }, 3_600_000), issuer.issue({ Name: 'jane', Groups: ['team-b'] }, 3_600_000)]);
    const request = (token: string) => ({ remoteAddress: '10.1.1.1', target: '/who-am-i', clientCertVerified: false, headers: { authorization: `Bearer ${token}` } });
    const first = authenticate(request(john));
    expect(authenticate(request(john))).toBe(first);
    expect(authenticate(request(jane))).toEqual({ name: 'jane', groups: ['team-b', 'mesh-system:authenticated'] });
    expect(first).toEqual({ name: 'john', groups: ['mesh-system:authenticated'] });
  });

  it('with client certificates, still makes a tokenless local request admin when localhostIsAdmin is on', () => {
    const authenticate = createAuthenticator({ type: 'adminClientCerts', localhostIsAdmin: true, userTokens });
    expect(authenticate({ ...fromLocalhost, headers: { host: 'localhost' } })).toBe(admin);
    expect(authenticate({ remoteAddress: '10.1.1.1', target: '/', clientCertVerified: false, headers: { host: 'localhost' } })).toBe(anonymous);
  });
});
