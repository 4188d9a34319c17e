import { describe, expect, it } from 'vitest';
import { decodeJwt } from './jwt-decode.js';
import { DOCS_TOKEN } from './test-support/docs-token.js';
import { formatEpochSeconds, formatSpan, renderTokenInspection } from './token-inspection.js';

describe('inspecting the docs example token', () => {
  it('decodes header and payload', () => {
    const token = decodeJwt(DOCS_TOKEN);
    expect(token.header).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(token.payload).toEqual({
      Name: 'john',
      Groups: ['team-a'],
      exp: 1636811674,
      nbf: 1636724974,
      iat: 1636725274,
      jti: 'bf3d0b2e-d840-4cb6-bf7c-b90f54391468',
    });
    expect(token.signature).toMatch(/^XsaPcQ5w.*UHvAw$/);
    expect(token.signingInput).toBe(DOCS_TOKEN.split('.').slice(0, 2).join('.'));
  });

  it('prints it as the docs show it (their times are in UTC+1)', () => {
    const text = renderTokenInspection(decodeJwt(DOCS_TOKEN), { timeZone: 'Europe/Warsaw' });
    expect(text).toBe(
      [
        '✻ Header',
        '{',
        '  "alg": "RS256",',
        '  "kid": "1",',
        '  "typ": "JWT"',
        '}',
        '✻ Payload',
        '{',
        '  "Name": "john",',
        '  "Groups": [',
        '    "team-a"',
        '  ],',
        '  "exp": 1636811674,',
        '  "nbf": 1636724974,',
        '  "iat": 1636725274,',
        '  "jti": "bf3d0b2e-d840-4cb6-bf7c-b90f54391468"',
        '}',
        'Issued At: 1636725274 11/12/2021, 2:54:34 PM',
        'Not Before: 1636724974 11/12/2021, 2:49:34 PM',
        'Expiration Time: 1636811674 11/13/2021, 2:54:34 PM',
        `✻ Signature ${DOCS_TOKEN.split('.')[2]}`,
        '',
      ].join('\n'),
    );
  });

  it('says when the token has expired, or is not valid yet, given the time', () => {
    const expired = renderTokenInspection(decodeJwt(DOCS_TOKEN), { timeZone: 'UTC', now: new Date((1636811674 + 3 * 86_400 + 7_260) * 1000) });
    expect(expired).toMatch(/\nExpiration Time: 1636811674 11\/13\/2021, 1:54:34 PM\nExpired: 3d 2h ago\n✻ Signature /);
    const current = renderTokenInspection(decodeJwt(DOCS_TOKEN), { timeZone: 'UTC', now: new Date(1636725274 * 1000) });
    expect(current).not.toMatch(/Expired|Not yet valid/);
    const early = renderTokenInspection(decodeJwt(DOCS_TOKEN), { timeZone: 'UTC', now: new Date((1636724974 - 90) * 1000) });
    expect(early).toMatch(/\nNot yet valid: for another 1m 30s\n✻ Signature /);
  });

  it('formats spans by their two largest units', () => {
    expect([0, 59, 61, 3_600, 97_000, 86_400 * 400, 86_400 * 3 + 120].map(formatSpan)).toEqual(['0s', '59s', '1m 1s', '1h', '1d 2h', '400d', '3d 2m']);
  });

  it('formats times with a plain space before AM/PM', () => {
    expect(formatEpochSeconds(1636725274, 'UTC')).toBe('11/12/2021, 1:54:34 PM');
  });

  it('tolerates surrounding whitespace, as from a pipe', () => {
    expect(decodeJwt(`${DOCS_TOKEN}\n`).header['kid']).toBe('1');
  });

  it('refuses what is not a JWT, naming why', () => {
    expect(() => decodeJwt('abc')).toThrow('malformed token: expected 3 dot-separated parts, got 1');
    expect(() => decodeJwt('a.b.c')).toThrow('malformed token: the header is not JSON');
    expect(() => decodeJwt('e30.W10.x')).toThrow('malformed token: the payload is not a JSON object');
    expect(() => decodeJwt('e3+.e30.x')).toThrow('malformed token: the header is not base64url');
  });
});
