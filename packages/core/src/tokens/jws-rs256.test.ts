import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeJws, JwsFormatError, signRs256, verifyRs256 } from './jws-rs256.js';

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
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

describe('decodeJws refusals', () => {
  it.each([
    ['two parts', 'a.b', 'expected three dot-separated base64url parts'],
    ['four parts', 'a.b.c.d', 'expected three dot-separated base64url parts'],
    ['an empty header', '.b.c', 'expected three dot-separated base64url parts'],
    ['an empty payload', 'a..c', 'expected three dot-separated base64url parts'],
    ['a header outside base64url', 'a+.b.c', 'not base64url'],
    ['a signature outside base64url', 'a.b.c=', 'not base64url'],
    ['whitespace', 'a.b .c', 'not base64url'],
  ])('names %s', (_what, t, message) => {
    expect(() => decodeJws(t)).toThrow(new JwsFormatError(message));
  });

  // decodeJws checks the alphabet by decoded lengths, not character by character: a code unit
  // outside it, in any part, replacing a character or added, must still be refused. Every low
  // byte with high bytes 0 to 3 (above 0xff the decoder would read only the low byte), the
  // surrogates' first block and the last block of the plane.
  const outsideAlphabet = [...range(0, 0x400), ...range(0xd800, 0xd900), ...range(0xff00, 0x10000)].filter((code) => !/^[A-Za-z0-9_.-]$/.test(String.fromCharCode(code)));
  it('refuses every character outside base64url, in every part, as the one-pass check did', () => {
    const valid = token('{"Name":"john"}');
    const dots = [valid.indexOf('.'), valid.lastIndexOf('.')];
    const places = [1, dots[0]! + 3, dots[1]! + 2, valid.length];
    let checked = 0;
    const wrong: string[] = [];
    for (const code of outsideAlphabet) {
      const c = String.fromCharCode(code);
      for (const at of places) {
        for (const t of [valid.slice(0, at - 1) + c + valid.slice(at), valid.slice(0, at) + c + valid.slice(at)]) {
          checked++;
          try {
            decodeJws(t);
          } catch (error) {
            if (error instanceof JwsFormatError && error.message === 'not base64url') continue;
          }
          wrong.push(`U+${code.toString(16).padStart(4, '0')} at ${at}`);
        }
      }
    }
    expect(wrong).toEqual([]);
    expect(checked).toBe((1536 - 65) * 8);
  });

  it.each([
    ['header', (json: string) => token('{}', json)],
    ['payload', (json: string) => token(json)],
  ])('refuses a %s that is not a JSON object, not JSON, or not UTF-8', (what, tokenWith) => {
    for (const json of ['[]', '[{}]', 'null', '1', '"{}"', 'true']) expect(() => decodeJws(tokenWith(json))).toThrow(new JwsFormatError(`${what} is not a JSON object`));
    for (const json of ['{', '{"a":1}x', '\uFEFF{}', "{'a':1}"]) expect(() => decodeJws(tokenWith(json))).toThrow(new JwsFormatError(`${what} is not JSON`));
    const invalidUtf8 = `${Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d]).toString('base64url')}`;
    const t = what === 'header' ? `${invalidUtf8}.${part('{}')}.c2ln` : `${part('{"alg":"RS256"}')}.${invalidUtf8}.c2ln`;
    expect(() => decodeJws(t)).toThrow(new JwsFormatError(`${what} is not UTF-8`));
  });

  it('accepts a real U+FFFD in a string, and other non-ASCII text', () => {
    expect(decodeJws(token('{"Name":"\uFFFD jöhn ✓"}')).payload).toEqual({ Name: '\uFFFD jöhn ✓' });
  });

  it('hands back the signing input and the signature bytes', () => {
    const t = token('{"Name":"john"}');
    const decoded = decodeJws(t);
    expect(decoded.token.slice(0, decoded.signingInputLength)).toBe(t.slice(0, t.lastIndexOf('.')));
    expect(decoded.signature).toEqual(Buffer.from('sig'));
  });
});

describe('decodeJws header cache', () => {
  const header = (kid: number) => `{"alg":"RS256","kid":"${kid}","typ":"JWT"}`;

  it('parses each token by its own header, also after one of the same length or one it starts with', () => {
    expect(decodeJws(token('{}', header(1))).header.kid).toBe('1');
    expect(decodeJws(token('{}', header(2))).header.kid).toBe('2');
    expect(decodeJws(token('{}', header(1))).header.kid).toBe('1');
    // 25 bytes: its base64url is a prefix of that of the same bytes plus a control byte (invalid JSON).
    const short = '{"alg":"RS256","kid":"1"}';
    expect(decodeJws(token('{}', short)).header).toEqual({ alg: 'RS256', kid: '1' });
    const longer = `${Buffer.from(`${short}\u0001`).toString('base64url')}.${part('{}')}.c2ln`;
    expect(longer.startsWith(part(short))).toBe(true);
    expect(() => decodeJws(longer)).toThrow(new JwsFormatError('header is not JSON'));
    // A token ending in the last header's text, with a header of that length, still gets its own.
    const seen = part(header(5));
    decodeJws(`${seen}.${part('{}')}.c2ln`);
    expect(decodeJws(`${part(header(6))}.${part('{}')}.${seen}`).header.kid).toBe('6');
  });

  it('shares one frozen header object between tokens of the same header text', () => {
    const first = decodeJws(token('{"a":1}', header(3))).header;
    decodeJws(token('{}', header(4)));
    expect(decodeJws(token('{"b":2}', header(3))).header).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
  });

  it('keeps a bounded number of headers: recent ones stay, long-unseen ones are parsed again', () => {
    const first = decodeJws(token('{}', header(100))).header;
    let recent: Record<string, unknown> | undefined;
    for (let kid = 101; kid < 1_100; kid++) {
      const parsed = decodeJws(token('{}', header(kid))).header;
      if (kid === 1_098) recent = parsed;
    }
    expect(decodeJws(token('{}', header(1_098))).header).toBe(recent);
    const again = decodeJws(token('{}', header(100))).header;
    expect(again).not.toBe(first);
    expect(again).toEqual(first);
  });
});

describe('verifyRs256 and signRs256', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it('verifies what signRs256 signed, however long the signing input', async () => {
    for (const size of [10, 9_000]) {
      const signed = await signRs256({ alg: 'RS256', kid: '1' }, { pad: 'x'.repeat(size) }, privateKey);
      expect(verifyRs256(decodeJws(signed), publicKey)).toBe(true);
      const [h, p] = signed.split('.');
      expect(verifyRs256(decodeJws(`${h}.${p}.${part('not the signature')}`), publicKey)).toBe(false);
    }
  });

  it('rejects when the key cannot sign', async () => {
    // An X25519 key gets as far as the signing thread, which reports the failure back.
    await expect(signRs256({ alg: 'RS256' }, {}, generateKeyPairSync('x25519').privateKey)).rejects.toThrow(/not supported for this keytype/);
    await expect(signRs256({ alg: 'RS256' }, {}, publicKey)).rejects.toThrow(/expected private/);
  });
});
