import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MeshAuthError } from '../errors.js';
import { BASE64_SLICE_CHARS, decodeBase64, decodeBase64InSlices } from './validate.js';

const refusal = async (run: () => unknown): Promise<string> => {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(MeshAuthError);
    return (error as MeshAuthError).message;
  }
  throw new Error('not refused');
};

describe('strict base64', () => {
  it('takes what `base64` prints and refuses any other spelling', async () => {
    expect(decodeBase64('YWJj').toString()).toBe('abc');
    expect(decodeBase64('YQ==').toString()).toBe('a');
    expect(decodeBase64('').length).toBe(0);
    // Unused bits set in the last character, missing padding, foreign characters, blanks.
    for (const bad of ['YR==', 'YQ', 'YQ=', 'YW Jj', 'YW\nJj', 'YWJj!', 'YW-j', 'YQ==YQ==']) {
      expect(await refusal(() => decodeBase64(bad))).toMatch(/data.*must be base64/);
    }
  });

  it('decodes a long value slice by slice into the same bytes, and refuses it where any slice is not base64', async () => {
    const bytes = randomBytes(((BASE64_SLICE_CHARS * 2) / 4) * 3 + 2);
    const text = bytes.toString('base64');
    expect(text.length).toBeGreaterThan(BASE64_SLICE_CHARS * 2);
    expect(text.endsWith('=') && !text.endsWith('==')).toBe(true);
    expect((await decodeBase64InSlices(text)).equals(bytes)).toBe(true);
    expect((await decodeBase64InSlices('YWJj')).toString()).toBe('abc');
    const at = (i: number, c: string) => text.slice(0, i) + c + text.slice(i + 1);
    // A bad character in the second slice; padding that ends the first slice (each slice alone
    // would decode); a non-canonical last character; a length that is not whole groups.
    for (const bad of [at(BASE64_SLICE_CHARS + 7, '*'), `${text.slice(0, BASE64_SLICE_CHARS - 2)}==${text.slice(BASE64_SLICE_CHARS)}`, `${text.slice(0, -2)}B=`, text.slice(1)]) {
      expect(await refusal(() => decodeBase64InSlices(bad, 'list'))).toMatch(/list.*must be base64/);
    }
  });
});
