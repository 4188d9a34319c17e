import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isCanonicalUuid, readUuids, uuidFromWords, uuidsAsJsonArray, uuidWords, writeUuid } from './uuid-jti.js';

describe('UUID jtis', () => {
  it('packs a canonical UUID into 16 bytes and reads the same string back', () => {
    fc.assert(
      fc.property(fc.uuid(), (jti) => {
        const bytes = new Uint8Array(20);
        expect(writeUuid(jti, bytes, 2)).toBe(true);
        expect(Buffer.from(bytes.subarray(2, 18)).toString('hex')).toBe(jti.replaceAll('-', ''));
        expect(readUuids(bytes.subarray(2, 18))).toEqual([jti]);
        const words = new Uint32Array(4);
        expect(uuidWords(jti, words)).toBe(true);
        expect(uuidFromWords(words[0]!, words[1]!, words[2]!, words[3]!)).toBe(jti);
      }),
    );
  });

  it('leaves every other string alone: uppercase and mixed-case UUIDs stay strings, so jtis still compare as strings', () => {
    const jti = randomUUID();
    const bytes = new Uint8Array(16);
    for (const other of [jti.toUpperCase(), `${jti.slice(0, 35)}A`, `{${jti}}`, jti.replaceAll('-', ''), `${jti.slice(0, 8)}_${jti.slice(9)}`, 'jti-1', '', `${jti.slice(0, 35)}\u0100`, `${jti.slice(0, 35)}\u0080`,
      // A digit where a dash goes, at each of the four dashes: 36 characters, but no UUID's form.
      ...[8, 13, 18, 23].map((at) => `${jti.slice(0, at)}a${jti.slice(at + 1)}`)]) {
      expect(isCanonicalUuid(other)).toBe(false);
      expect(writeUuid(other, bytes, 0)).toBe(false);
    }
    expect(bytes.every((b) => b === 0)).toBe(true);
    expect(isCanonicalUuid(jti)).toBe(true);
    expect(isCanonicalUuid('00000000-0000-0000-0000-000000000000')).toBe(true);
  });

  it('reads a run of packed UUIDs, and refuses a run that is not a whole number of them', () => {
    const jtis = [randomUUID(), randomUUID(), '00000000-0000-0000-0000-000000000000', 'ffffffff-ffff-ffff-ffff-ffffffffffff'];
    const bytes = new Uint8Array(jtis.length * 16);
    jtis.forEach((jti, i) => writeUuid(jti, bytes, i * 16));
    expect(readUuids(bytes)).toEqual(jtis);
    // Every byte value in every position: the text is written byte by byte from a table.
    const every = Uint8Array.from({ length: 256 * 16 }, (_, i) => (i >> 4) ^ (i & 15) * 17);
    expect(readUuids(every)).toEqual(Array.from({ length: 256 }, (_, u) => uuidOfHex(Buffer.from(every.subarray(u * 16, u * 16 + 16)).toString('hex'))));
    expect(readUuids(new Uint8Array(0))).toEqual([]);
    expect(() => readUuids(bytes.subarray(0, 17))).toThrow(/whole number/);
  });

  it('writes a run of packed UUIDs as the text of one JSON array of their strings', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 * 16 }), (random) => {
        const bytes = random.subarray(0, random.length - (random.length % 16));
        const text = uuidsAsJsonArray(bytes);
        expect(JSON.parse(text)).toEqual(readUuids(bytes));
        expect(text).toBe(JSON.stringify(readUuids(bytes)));
      }),
    );
    expect(uuidsAsJsonArray(new Uint8Array(0))).toBe('[]');
    expect(() => uuidsAsJsonArray(new Uint8Array(17))).toThrow(/whole number/);
  });
});

function uuidOfHex(hex: string): string {
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
