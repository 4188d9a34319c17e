import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { MAX_LISTED_JTI_CHARS, readRevocationList } from './revocation-list.js';

/** The list's meaning, read the plain way: the whole text decoded, split at commas, each item trimmed. */
function reference(data: Buffer): Set<string> {
  return new Set(data.toString('utf8').split(',').map((item) => item.trim()).filter((jti) => jti !== ''));
}

const values = async (data: Buffer) => new Set((await readRevocationList(data)).values());

describe('readRevocationList', () => {
  it('reads what the plain reading reads: UUIDs packed or not, blanks of every kind, empty items, bytes that are no UTF-8', async () => {
    const uuid = fc.uuid();
    const item = fc.oneof(
      uuid,
      uuid.map((u) => u.toUpperCase()),
      // A UUID one character off: a dash moved, a digit that is no hex, one too few or many.
      uuid.map((u) => `${u.slice(0, 8)}${u.slice(9, 10)}-${u.slice(10)}`),
      uuid.map((u) => `${u.slice(0, 35)}g`),
      uuid.map((u) => u.slice(1)),
      uuid.map((u) => `${u}0`),
      fc.constantFrom('', 'jti-1', 'caf\u00e9', '\u{1F600}', '00000000-0000-0000-0000-00000000000\u00e9'),
      fc.string({ maxLength: 40 }),
    );
    const blank = fc.constantFrom('', ' ', '\t', '\r\n', '\u000b\u000c', '\u00a0', '\ufeff', '\u2028', '\u3000');
    const listed = fc.array(fc.tuple(blank, item, blank).map(([before, jti, after]) => before + jti + after), { maxLength: 30 });
    await fc.assert(
      fc.asyncProperty(listed, fc.boolean(), async (items, brokenUtf8) => {
        const data = Buffer.concat([Buffer.from(items.join(',')), brokenUtf8 ? Buffer.from([0xe2, 0x82, 0x2c, 0x80, 0x2c, 0xff]) : Buffer.alloc(0)]);
        expect(await values(data)).toEqual(reference(data));
      }),
      { numRuns: 500 },
    );
  });

  it('reads a large list of UUIDs, repeats counted once', async () => {
    const jtis = Array.from({ length: 20_000 }, () => randomUUID());
    const set = await readRevocationList(Buffer.from([...jtis, ...jtis.slice(0, 100)].join(', ')));
    expect(set.size).toBe(jtis.length);
    expect(new Set(set.values())).toEqual(new Set(jtis));
  });

  it(`takes a jti of ${MAX_LISTED_JTI_CHARS} characters and refuses a longer one with a 400 naming data`, async () => {
    const longest = 'x'.repeat(MAX_LISTED_JTI_CHARS);
    expect(await values(Buffer.from(`a, ${longest} ,b`))).toEqual(new Set(['a', longest, 'b']));
    const refused = readRevocationList(Buffer.from(`a,${longest}y,b`));
    await expect(refused).rejects.toThrow(MeshAuthError);
    await expect(refused).rejects.toMatchObject({ code: 'ERR_BAD_REQUEST', message: `data: each revoked token id must be at most ${MAX_LISTED_JTI_CHARS} characters` });
  });
});
