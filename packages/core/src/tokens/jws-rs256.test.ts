import { describe, expect, it } from 'vitest';
import { decodeJws, JwsFormatError } from './jws-rs256.js';

const part = (json: string) => Buffer.from(json).toString('base64url');
const token = (payloadJson: string, headerJson = '{"alg":"RS256","kid":"1","typ":"JWT"}') => `${part(headerJson)}.${part(payloadJson)}.c2ln`;

describe('decodeJws', () => {
  it('decodes a compact token', () => {
    const decoded = decodeJws(token('{"Name":"john","Groups":["team-a"]}'));
    expect(decoded.header).toEqual({ alg: 'RS256', kid: '1', typ: 'JWT' });
    expect(decoded.payload).toEqual({ Name: 'john', Groups: ['team-a'] });
    expect(decoded.signature.toString()).toBe('sig');
  });

  // The compact fast path and the full scan must agree whatever the spacing or nesting.
  it.each([
    ['adjacent duplicate', '{"Name":"a","Name":"b"}'],
    ['duplicate after whitespace', '{"Name":"a","Name" :"b"}'],
    ['duplicate with escaped name', '{"Name":"a","\\u004eame":"b"}'],
    ['duplicate inside a nested object', '{"Tags":{"k":["v"],"k":["w"]}}'],
    ['duplicate header alg', '{"alg":"none","alg":"RS256"}'],
  ])('refuses a %s', (_what, json) => {
    const t = json.includes('"alg"') ? token('{}', json) : token(json);
    expect(() => decodeJws(t)).toThrow(JwsFormatError);
    expect(() => decodeJws(t)).toThrow(/duplicate member name/);
  });

  it.each([
    ['nested objects reusing a top-level name', '{"Name":"a","Tags":{"Name":["b"]}}'],
    ['a string value containing ":', '{"Name":"a\\":b","Groups":[]}'],
    ['spaced JSON', '{ "Name" : "a", "Groups" : [ ] }'],
  ])('accepts %s', (_what, json) => {
    expect(() => decodeJws(token(json))).not.toThrow();
  });

  it.each([
    ['two parts', 'a.b'],
    ['four parts', 'a.b.c.d'],
    ['an empty header', '.b.c'],
    ['a character outside base64url', 'a+.b.c'],
  ])('refuses %s as malformed', (_what, t) => {
    expect(() => decodeJws(t)).toThrow(JwsFormatError);
  });

  // 'sig', 'si' and 's' encode to 4, 3 and 2 characters: each tail length a part can have.
  it.each(['c2ln', 'c2k', 'cw', ''])('accepts the canonical signature %j', (signature) => {
    const t = token('{}').replace(/c2ln$/, signature);
    expect(decodeJws(t).signature).toEqual(Buffer.from(signature, 'base64url'));
  });

  it.each([
    ['2 unused bits set in a 3-character tail', 'c2l', /signature is not canonical base64url \(unused bits set\)/],
    ['the lowest of 4 unused bits set in a 2-character tail', 'cx', /signature is not canonical base64url \(unused bits set\)/],
    ['the highest of 4 unused bits set in a 2-character tail', 'c4', /signature is not canonical base64url \(unused bits set\)/],
    ['a 1-character tail (no whole byte)', 'c2lnA', /signature is not base64url \(impossible length\)/],
    ['padding', 'c2k=', /not base64url/],
    ['standard base64 characters', 'c2+/', /not base64url/],
  ])('refuses a signature with %s', (_what, signature, message) => {
    expect(Buffer.from(signature.replace(/=$/, ''), 'base64url').length).toBeGreaterThan(0);
    expect(() => decodeJws(token('{}').replace(/c2ln$/, signature))).toThrow(message);
  });

  it('refuses a header or payload with unused bits set, before parsing either', () => {
    // '{}' is 'e30': 3 characters, 2 unused bits; 'e31' decodes to the same two bytes.
    expect(Buffer.from('e31', 'base64url').toString()).toBe('{}');
    expect(() => decodeJws(`${part('{"alg":"RS256"}')}.e31.c2ln`)).toThrow(/payload is not canonical base64url/);
    expect(() => decodeJws(`e31.${part('{}')}.c2ln`)).toThrow(/header is not canonical base64url/);
  });
});
