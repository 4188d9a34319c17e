import { describe, expect, it, vi } from 'vitest';
import { decodeJwt } from './jwt-decode.js';
import { signToken, testKey, userClaims } from './test-support/sign-token.js';
import { verdictFromRejection, verifyToken, type ServerAnswer } from './token-verification.js';

const NOW = new Date('2025-01-01T00:00:00Z');
const nowSeconds = NOW.getTime() / 1000;
const key = testKey('1');

function deps(answer: ServerAnswer = { accepted: true }, jwks = key.jwks) {
  return { fetchJwks: async () => jwks, askServer: vi.fn(async () => answer), now: () => NOW };
}

async function check(token: string, d = deps()) {
  return verifyToken(decodeJwt(token), token, d);
}

describe('verifying a user token against the control plane', () => {
  it('is valid when signature, times and the server all agree', async () => {
    const token = signToken(key, userClaims(nowSeconds));
    const d = deps();
    expect(await check(token, d)).toEqual({ verdict: 'valid' });
    expect(d.askServer).toHaveBeenCalledWith(token);
  });

  it('is an unknown key when the JWKS has no key with its kid', async () => {
    const token = signToken(testKey('7'), userClaims(nowSeconds));
    expect((await check(token)).verdict).toBe('unknown key');
  });

  it('has an invalid signature when another key signed it under the same kid', async () => {
    const token = signToken(testKey('1'), userClaims(nowSeconds));
    expect((await check(token)).verdict).toBe('invalid signature');
  });

  it('has an invalid signature when the payload was changed', async () => {
    const [h, , s] = signToken(key, userClaims(nowSeconds)).split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...userClaims(nowSeconds), Groups: ['mesh-system:admin'] })).toString('base64url')}.${s}`;
    expect((await check(forged)).verdict).toBe('invalid signature');
  });

  it('is expired after exp, without asking the server', async () => {
    const d = deps();
    const token = signToken(key, userClaims(nowSeconds - 7200, 3600));
    expect((await check(token, d)).verdict).toBe('expired');
    expect(d.askServer).not.toHaveBeenCalled();
  });

  it('is not yet valid before nbf', async () => {
    const token = signToken(key, { ...userClaims(nowSeconds), nbf: nowSeconds + 600 });
    expect((await check(token)).verdict).toBe('not yet valid');
  });

  it('is revoked when the server says so', async () => {
    const token = signToken(key, userClaims(nowSeconds));
    expect(await check(token, deps({ accepted: false, detail: 'user token is revoked' }))).toEqual({
      verdict: 'revoked',
      detail: 'user token is revoked',
    });
  });

  it('reports expiry first: an expired token of an unknown key, or of another algorithm, is expired, and nothing is fetched', async () => {
    const d = { ...deps(), fetchJwks: vi.fn(async () => key.jwks) };
    const old = userClaims(nowSeconds - 3 * 86_400, 3600);
    for (const token of [signToken(testKey('7'), old), signToken(key, old, { alg: 'HS256' })]) {
      expect(await check(token, d)).toEqual({ verdict: 'expired', detail: 'exp passed 2d 23h ago' });
    }
    expect(d.fetchJwks).not.toHaveBeenCalled();
    expect(d.askServer).not.toHaveBeenCalled();
  });

  it('refuses algorithms other than RS256', async () => {
    const token = signToken(key, userClaims(nowSeconds), { alg: 'HS256' });
    expect((await check(token)).verdict).toBe('unsupported algorithm');
  });

  it("maps the server's 401 details onto verdicts", () => {
    expect(verdictFromRejection('user token is revoked')).toBe('revoked');
    expect(verdictFromRejection('user token expired at 2021-11-13T13:54:34.000Z')).toBe('expired');
    expect(verdictFromRejection('user token is not valid before 2030-01-01T00:00:00.000Z')).toBe('not yet valid');
    expect(verdictFromRejection('user token was signed with signing key 1, which has been rotated out; regenerate the token')).toBe(
      'unknown key',
    );
    expect(verdictFromRejection('user token was signed with an unknown key (kid 9): no signing key with that serial was ever held here')).toBe('unknown key');
    expect(verdictFromRejection('user token signature is invalid')).toBe('invalid signature');
    expect(verdictFromRejection('something else')).toBe('rejected');
  });
});
