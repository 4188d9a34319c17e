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
});
