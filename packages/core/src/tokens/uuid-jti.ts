/**
 * A jti in the canonical UUID form (36 characters, lowercase hex, dashes at 8, 13, 18 and 23: what
 * `randomUUID()` gives, and so every jti meshauth issues) is 16 bytes of information. Memory and the
 * sync wire hold such jtis as those 16 bytes (four 32-bit words); any other jti (an uppercase or
 * mixed-case UUID, or no UUID at all) is kept as the string it is.
 *
 * jtis compare as strings, as they always did: only the canonical form is packed, so packing is
 * lossless and "ABC…" and "abc…" stay two jtis (revoking one never refuses the other, nor
 * un-revokes it).
 */
export const UUID_BYTES = 16;

const HEX = '0123456789abcdef';
/** Lowercase hex digit → its value; -1 for anything else (uppercase included: not canonical). */
const NIBBLE = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) NIBBLE[HEX.charCodeAt(i)] = i;
/** A byte → its two lowercase hex digits. */
const BYTE_HEX = Array.from({ length: 256 }, (_, b) => HEX[b >>> 4]! + HEX[b & 15]!);
/** Where each of the 32 hex digits sits in the 36-character form. */
const DIGIT_AT = Array.from({ length: 32 }, (_, i) => i + (i >= 8 ? 1 : 0) + (i >= 12 ? 1 : 0) + (i >= 16 ? 1 : 0) + (i >= 20 ? 1 : 0));

function isDashAt(text: string): boolean {
  return text.charCodeAt(8) === 45 && text.charCodeAt(13) === 45 && text.charCodeAt(18) === 45 && text.charCodeAt(23) === 45;
}

/**
 * Parses a canonical UUID jti into four big-endian 32-bit words (`out[0..3]`); false (and `out`
 * undefined) for any other string. Allocates nothing: it runs on every revocation check.
 */
export function uuidWords(text: string, out: Uint32Array): boolean {
  if (text.length !== 36 || !isDashAt(text)) return false;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let d = w * 8; d < w * 8 + 8; d++) {
      const code = text.charCodeAt(DIGIT_AT[d]!);
      const nibble = code < 128 ? NIBBLE[code]! : -1;
      if (nibble < 0) return false;
      word = (word << 4) | nibble;
    }
    out[w] = word >>> 0;
  }
  return true;
}

/**
 * `uuidWords` of the 36 bytes of `bytes` from `at` (ASCII text, as a list's bytes hold it): the
 * same answer as for the string they decode to, with no string made.
 */
export function uuidWordsAt(bytes: Uint8Array, at: number, out: Uint32Array): boolean {
  if (at + 36 > bytes.length || bytes[at + 8] !== 45 || bytes[at + 13] !== 45 || bytes[at + 18] !== 45 || bytes[at + 23] !== 45) return false;
  for (let w = 0; w < 4; w++) {
    let word = 0;
    for (let d = w * 8; d < w * 8 + 8; d++) {
      const code = bytes[at + DIGIT_AT[d]!]!;
      const nibble = code < 128 ? NIBBLE[code]! : -1;
      if (nibble < 0) return false;
      word = (word << 4) | nibble;
    }
    out[w] = word >>> 0;
  }
  return true;
}

const scratch = new Uint32Array(4);

export function isCanonicalUuid(text: string): boolean {
  return uuidWords(text, scratch);
}

/** Writes a canonical UUID jti's 16 bytes at `offset`; false (nothing written) for any other string. */
export function writeUuid(text: string, target: Uint8Array, offset: number): boolean {
  if (!uuidWords(text, scratch)) return false;
  for (let w = 0; w < 4; w++) {
    const word = scratch[w]!;
    target[offset + w * 4] = word >>> 24;
    target[offset + w * 4 + 1] = (word >>> 16) & 255;
    target[offset + w * 4 + 2] = (word >>> 8) & 255;
    target[offset + w * 4 + 3] = word & 255;
  }
  return true;
}

/** The canonical string of four words (as `uuidWords` gives them). */
export function uuidFromWords(w0: number, w1: number, w2: number, w3: number): string {
  const hex = (w: number) => BYTE_HEX[w >>> 24]! + BYTE_HEX[(w >>> 16) & 255]! + BYTE_HEX[(w >>> 8) & 255]! + BYTE_HEX[w & 255]!;
  const a = hex(w1);
  const b = hex(w2);
  return `${hex(w0)}-${a.slice(0, 4)}-${a.slice(4)}-${b.slice(0, 4)}-${b.slice(4)}${hex(w3)}`;
}

/** The length of a canonical UUID string. */
const UUID_CHARS = 36;
/** A byte → its two lowercase hex digits' character codes, as one big-endian 16-bit value. */
const BYTE_HEX_CODES = Uint16Array.from({ length: 256 }, (_, b) => (HEX.charCodeAt(b >>> 4) << 8) | HEX.charCodeAt(b & 15));

/**
 * Every jti of `bytes` (a whole number of 16-byte UUIDs), as canonical strings. The text of all of
 * them is written into one buffer first and each string cut from it in one native call: built
 * piece by piece, a million of them took seconds (a snapshot's worth on a zone).
 */
export function readUuids(bytes: Uint8Array): string[] {
  const count = uuidCount(bytes);
  const text = Buffer.allocUnsafe(count * UUID_CHARS);
  writeUuidTexts(bytes, text, 0, 0);
  const out = new Array<string>(count);
  for (let i = 0; i < count; i++) out[i] = text.toString('latin1', i * UUID_CHARS, (i + 1) * UUID_CHARS);
  return out;
}

/**
 * Every jti of `bytes` as the text of one JSON array of strings (`["…","…"]`), written in one pass:
 * what SQL's JSON functions read, with no JavaScript string per jti on the way (a snapshot's
 * million of them were the bulk of a zone's garbage while it applied one).
 */
export function uuidsAsJsonArray(bytes: Uint8Array): string {
  const count = uuidCount(bytes);
  if (count === 0) return '[]';
  // `"` + 36 + `"` per jti, a comma between two, and the brackets.
  const text = Buffer.allocUnsafe(count * (UUID_CHARS + 3) + 1);
  text[0] = 0x5b; // [
  writeUuidTexts(bytes, text, 1, 0x22); // each in double quotes
  for (let i = 1; i < count; i++) text[i * (UUID_CHARS + 3)] = 0x2c; // ,
  text[text.length - 1] = 0x5d; // ]
  return text.toString('latin1');
}

function uuidCount(bytes: Uint8Array): number {
  if (bytes.length % UUID_BYTES !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of ${UUID_BYTES}-byte UUIDs`);
  return bytes.length / UUID_BYTES;
}

/**
 * Writes each UUID's 36 characters into `text` from `at`, back to back; with `quote` (a character
 * code), each between two of them and one byte apart from the next (where a separator goes).
 */
function writeUuidTexts(bytes: Uint8Array, text: Buffer, at: number, quote: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const byte = i % UUID_BYTES;
    if (byte === 0 && quote !== 0) text[at++] = quote;
    if (byte === 4 || byte === 6 || byte === 8 || byte === 10) text[at++] = 45;
    const codes = BYTE_HEX_CODES[bytes[i]!]!;
    text[at++] = codes >>> 8;
    text[at++] = codes & 255;
    if (byte === UUID_BYTES - 1 && quote !== 0) {
      text[at++] = quote;
      at++; // the separator's place
    }
  }
}
