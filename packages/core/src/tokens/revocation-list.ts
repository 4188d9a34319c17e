import { badRequest } from '../errors.js';
import { SliceClock } from '../yield-to-loop.js';
import { RevocationSet } from './revocation-set.js';
import { uuidWordsAt } from './uuid-jti.js';

/** The longest jti a list may hold, in characters. */
export const MAX_LISTED_JTI_CHARS = 128;
/** A UUID and its comma: what each jti of a list usually takes, for sizing the set it is read into. */
const LISTED_UUID_BYTES = 37;
const COMMA = 0x2c;
const UUID_CHARS = 36;

/** The ASCII characters `String.prototype.trim` removes: tab, line feed, vertical tab, form feed, carriage return, space. */
const isAsciiBlank = (byte: number) => byte === 0x20 || (byte >= 0x09 && byte <= 0x0d);

/**
 * Reads a revocation list as the docs store it (the jtis of a GlobalSecret's data, separated by
 * commas, blanks around each ignored) into a `RevocationSet`, the event loop let through every
 * few milliseconds. A jti over `MAX_LISTED_JTI_CHARS` characters is refused with a 400 naming
 * `data`, before anything is written.
 *
 * A canonical UUID (nearly every listed jti) goes from its bytes straight into the set, with no
 * string made: a million of them were, as strings, most of an import's time before its writes.
 * Any other jti is decoded and trimmed as a string, as before. The two agree: a comma is never
 * part of a multi-byte UTF-8 sequence, so splitting the bytes splits where the text would, and
 * an item that is a canonical UUID once ASCII blanks are cut from its ends is one after `trim()`.
 */
export async function readRevocationList(data: Uint8Array): Promise<RevocationSet> {
  const set = new RevocationSet(undefined, data.length / LISTED_UUID_BYTES);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const words = new Uint32Array(4);
  const clock = new SliceClock();
  for (let start = 0; start <= bytes.length; ) {
    let end = bytes.indexOf(COMMA, start);
    if (end < 0) end = bytes.length;
    let from = start;
    let to = end;
    start = end + 1;
    while (from < to && isAsciiBlank(bytes[from]!)) from++;
    while (to > from && isAsciiBlank(bytes[to - 1]!)) to--;
    if (to - from === UUID_CHARS && uuidWordsAt(bytes, from, words)) set.addUuid(words[0]!, words[1]!, words[2]!, words[3]!);
    else addOther(set, bytes.toString('utf8', from, to).trim());
    if (clock.due()) await clock.pause();
  }
  return set;
}

function addOther(set: RevocationSet, jti: string): void {
  if (jti === '') return;
  if (jti.length > MAX_LISTED_JTI_CHARS) throw badRequest('data', `each revoked token id must be at most ${MAX_LISTED_JTI_CHARS} characters`);
  set.add(jti);
}
