import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { publicKeyFromPem, spkiPemOf } from './public-key-cache.js';

const pemOfNewKey = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }) as string;

describe('publicKeyFromPem', () => {
  it('parses a PEM once and shares the key; past 64 distinct PEMs the oldest is parsed afresh', () => {
    const pems = Array.from({ length: 65 }, pemOfNewKey);
    const first = publicKeyFromPem(pems[0]!);
    expect(publicKeyFromPem(pems[0]!)).toBe(first);
    for (const pem of pems.slice(1, 64)) publicKeyFromPem(pem);
    // 64 held: the first is still there.
    expect(publicKeyFromPem(pems[0]!)).toBe(first);
    const second = publicKeyFromPem(pems[1]!);
    // The 65th pushes out the one held longest (the first), and only it.
    publicKeyFromPem(pems[64]!);
    expect(publicKeyFromPem(pems[1]!)).toBe(second);
    const again = publicKeyFromPem(pems[0]!);
    expect(again).not.toBe(first);
    expect(again.equals(first)).toBe(true);
    expect(spkiPemOf(again)).toBe(pems[0]);
  });
});
