import { isUtf8 } from 'node:buffer';
import { sign, verify, type KeyObject } from 'node:crypto';
import { hasDuplicateMember } from './json-duplicate-members.js';

/**
 * Compact JWS with RS256 only, on node:crypto KeyObjects.
 *
 * Why not jose here: jose v6 verifies through WebCrypto, whose per-call promise and thread-pool hop
 * cost about 3.5x a direct `crypto.verify` on this machine (10k vs 36k verifications/s), and token
 * verification sits in front of every API call. Accepting exactly one algorithm also removes
 * alg-confusion by construction. jose stays the independent verifier in the tests.
 */
// Structure and alphabet in one pass: two non-empty base64url parts and a (possibly empty) signature.
// An empty signature is allowed here (an `alg: none` token has one) so the alg check can name the refusal.
// Only a token refused on the fast path below meets it: it names what is wrong.
const compactJws = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

export interface DecodedJws {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
  /** The token decoded; its first `signingInputLength` characters are the signing input. */
  token: string;
  signingInputLength: number;
  signature: Buffer;
}

export class JwsFormatError extends Error {}

/**
 * Splits and parses a compact JWS without checking its signature.
 *
 * The alphabet is checked without a regular expression's pass over every character (about a sixth of
 * what a cold verification added to the RSA work). Once every character is known to be ASCII (its
 * UTF-8 length is its length: above U+00FF the decoder would read only a character's low byte),
 * Node's base64url decoder skips any character outside the alphabet and stops at '=', so a part
 * of n characters decodes to exactly ⌊3n/4⌋ bytes only when all of them are in the alphabet;
 * '+' and '/', which it reads as '-' and '_', are looked for on their own. Whatever fails here
 * is examined again by `formatError`, which names the first problem as the one-pass check did.
 */
export function decodeJws(token: string): DecodedJws {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first < 1 || second < first + 2 || token.includes('.', second + 1) || token.includes('+') || token.includes('/') || Buffer.byteLength(token) !== token.length) {
    throw formatError(token);
  }
  if (!isCanonical(token, 0, first) || !isCanonical(token, first + 1, second) || !isCanonical(token, second + 1, token.length)) throw formatError(token);
  const payload = decodePart(token, first + 1, second);
  const signature = decodePart(token, second + 1, token.length);
  return {
    header: parseHeader(token, first),
    payload: parseJsonObject(payload, 'payload'),
    token,
    signingInputLength: second,
    signature,
  };
}

/** A part's bytes, or the token refused when a character of it is outside the alphabet (see decodeJws). */
function decodePart(token: string, start: number, end: number): Buffer {
  const bytes = Buffer.from(token.slice(start, end), 'base64url');
  if (bytes.length !== ((end - start) * 3) >> 2) throw formatError(token);
  return bytes;
}

/** What is wrong with a token the fast path of `decodeJws` refused, in the order the spec checks. */
function formatError(token: string): JwsFormatError {
  if (!compactJws.test(token)) {
    const parts = token.split('.');
    return new JwsFormatError(parts.length !== 3 || parts[0] === '' || parts[1] === '' ? 'expected three dot-separated base64url parts' : 'not base64url');
  }
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  const parts = [['header', 0, first], ['payload', first + 1, second], ['signature', second + 1, token.length]] as const;
  for (const [what, start, end] of parts) {
    if (((end - start) & 3) === 1) return new JwsFormatError(`${what} is not base64url (impossible length)`);
    if (!isCanonical(token, start, end)) return new JwsFormatError(`${what} is not canonical base64url (unused bits set)`);
  }
  // Stryker disable next-line StringLiteral: unreachable; decodeJws refuses nothing the checks above let through
  return new JwsFormatError('not base64url');
}

/** The 6-bit value of each base64url character, by char code (the alphabet is checked before). */
const base64urlValue = new Uint8Array(128);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) base64urlValue[c.charCodeAt(0)] = i;

/**
 * Whether a part has no second spelling. Unpadded base64url of n bytes leaves 4 (n % 3 = 1) or 2
 * (n % 3 = 2) low bits of its last character unused; a decoder ignores them, so without this check
 * 16 (or 4) strings decode to the same signature and each verifies as "the same" token: a second
 * spelling would escape a deny-list, a cache or a log search keyed by the text. Only the last
 * character can carry them, so one table lookup per part is the whole cost (no re-encoding). A
 * length one past a whole group of four can spell no bytes at all.
 */
function isCanonical(token: string, start: number, end: number): boolean {
  const rest = (end - start) & 3;
  if (rest === 0) return true;
  if (rest === 1) return false;
  // The last character's unused low bits: 4 when the part ends in 1 byte's worth (rest 2), 2 for 2 bytes (rest 3).
  return (base64urlValue[token.charCodeAt(end - 1)]! & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/**
 * Nearly every token a plane sees carries one of a few headers (`{"alg":"RS256","kid":"1",...}`),
 * so parsed headers are kept by their exact encoded text: same text, same result, frozen. The
 * header last seen is compared in place first, which spares slicing and hashing it per token.
 */
const headerCache = new Map<string, Record<string, unknown>>();
const HEADER_CACHE_SIZE = 64;
// Stryker disable next-line StringLiteral: any start value that is no base64url header only makes the first token miss the fast path
let lastHeader = { text: '', value: {} as Record<string, unknown> };

function parseHeader(token: string, end: number): Record<string, unknown> {
  if (end === lastHeader.text.length && token.startsWith(lastHeader.text)) return lastHeader.value;
  const text = token.slice(0, end);
  let value = headerCache.get(text);
  if (!value) {
    value = Object.freeze(parseJsonObject(decodePart(token, 0, end), 'header'));
    if (headerCache.size >= HEADER_CACHE_SIZE) headerCache.delete(headerCache.keys().next().value!);
    headerCache.set(text, value);
  }
  lastHeader = { text, value };
  return value;
}

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  // toString keeps a byte-order mark as U+FEFF (JSON.parse then refuses it) rather than dropping it.
  const text = bytes.toString('utf8');
  // Invalid UTF-8 always decodes to U+FFFD, so only a text holding one needs the exact check.
  if (text.includes('\uFFFD') && !isUtf8(bytes)) throw new JwsFormatError(`${what} is not UTF-8`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JwsFormatError(`${what} is not JSON`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new JwsFormatError(`${what} is not a JSON object`);
  if (mayHaveDuplicateMember(text, value as object) && hasDuplicateMember(text)) throw new JwsFormatError(`${what} has a duplicate member name`);
  return value as Record<string, unknown>;
}

/**
 * Fast exact pre-check for the common, compact case: with no whitespace and no backslash, every `":`
 * ends a member name, so when their count equals the top-level key count there is neither a
 * nested member nor a duplicate. Anything else gets the full scan.
 */
function mayHaveDuplicateMember(text: string, value: object): boolean {
  // Stryker disable next-line Regex: a pattern matching more texts only sends them to the full scan, which gives the same answer
  if (/[\s\\]/.test(text)) return true;
  let names = 0;
  // Stryker disable next-line ConditionalExpression,UpdateOperator: a count that is off only sends the text to the full scan, same answer
  for (let i = text.indexOf('":'); i !== -1; i = text.indexOf('":', i + 2)) names++;
  return names !== Object.keys(value).length;
}

/** Holds the signing input for the one synchronous verify call at a time, instead of a new Buffer per token. */
// Stryker disable next-line ArithmeticOperator: a smaller buffer only sends every signing input down the Buffer.from path, same bytes
const signingInputBytes = Buffer.allocUnsafe(8 * 1024);

export function verifyRs256(decoded: DecodedJws, publicKey: KeyObject): boolean {
  const { token, signingInputLength: length, signature } = decoded;
  // latin1: the input is base64url (checked by decodeJws), so a byte per char without UTF-8 encoding.
  const input =
    length <= signingInputBytes.length
      // Stryker disable next-line StringLiteral: the input is base64url (ASCII), which every Buffer encoding writes byte for byte
      ? signingInputBytes.subarray(0, signingInputBytes.write(token, 0, length, 'latin1'))
      // Stryker disable next-line StringLiteral: base64url is ASCII, which every Buffer encoding reads byte for byte
      : Buffer.from(token.slice(0, length), 'latin1');
  return verify('sha256', input, publicKey, signature);
}

/** Key order in header and payload follows the objects given, so tokens look like the docs' example. */
export function encodeSigningInput(header: object, payload: object): string {
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
}

/** Signs on libuv's thread pool (the callback form), so concurrent issuing uses every core. */
export function signRs256(header: object, payload: object, privateKey: KeyObject): Promise<string> {
  const input = encodeSigningInput(header, payload);
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), privateKey, (error, signature) => {
      if (error) reject(error);
      else resolve(`${input}.${signature.toString('base64url')}`);
    });
  });
}
