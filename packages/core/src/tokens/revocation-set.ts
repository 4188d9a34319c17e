import { JtiFilter } from './jti-filter.js';
import { UUID_BYTES, uuidWords } from './uuid-jti.js';
import { UuidSet } from './uuid-set.js';

/** The most ids a set is sized for up front: 2.1 million UUID slots, 36 MB. */
const MAX_PRESIZED = 1_500_000;

/** One scratch key for the check on every request: parsing a jti allocates nothing. */
const words = new Uint32Array(4);

/**
 * Revoked token ids of one family, in memory: a check is one hash lookup whatever the count, and
 * for ids not revoked (nearly all) usually not even that: a Bloom filter rules them out first.
 * The store holds the records (revokedAt, expiresAt); this holds only what a check needs.
 *
 * Canonical UUID jtis (every jti meshauth issues) are held as 16 bytes in a `UuidSet`, any other
 * jti as its string in a `Set`: ids still compare as strings (see uuid-jti.ts), at a fraction of
 * the memory a million strings take.
 *
 * The filter is rebuilt from the set, twice as large, once it has taken as many adds as it was
 * sized for. A deleted id's bits stay until then: at worst a "maybe" the set then answers, and
 * since deletes never outnumber adds, the filter never holds more than it was sized for.
 */
export class RevocationSet {
  private uuids: UuidSet;
  private others = new Set<string>();
  private filter: JtiFilter;

  /**
   * `minFilterCapacity`: the smallest filter built (tests make it tiny to rebuild often).
   * `expected`: about how many ids it is about to take (a snapshot says so, an import's size
   * tells), sized for at once: growing a million-entry set by doubling rehashes it each time, and
   * the last rehash alone is a pause. At most `MAX_PRESIZED` is taken from it: a figure that is
   * wrong or hostile costs no more memory than that, and the set still grows past it.
   */
  constructor(
    private readonly minFilterCapacity = 1024,
    expected = 0,
  ) {
    expected = Math.min(expected, MAX_PRESIZED);
    this.uuids = new UuidSet(Math.max(1024, expected));
    // The power of two that doubling would have reached: sized to the exact count, the next add
    // after a snapshot would rebuild the filter over a million ids.
    this.filter = new JtiFilter(Math.max(minFilterCapacity, 2 ** Math.ceil(Math.log2(Math.max(1, expected)))));
  }

  /** A set of `jtis` (tests, and lists already in memory). */
  static of(jtis: Iterable<string>): RevocationSet {
    const set = new RevocationSet();
    for (const jti of jtis) set.add(jti);
    return set;
  }

  has(jti: string): boolean {
    // Stryker disable next-line ConditionalExpression: skipping the empty-set test only costs a lookup (the sets answer)
    if (this.size === 0) return false;
    if (uuidWords(jti, words)) {
      const hash = UuidSet.hash(words[0]!, words[1]!, words[2]!, words[3]!);
      return this.filter.mayContainHash(hash) && this.uuids.has(words[0]!, words[1]!, words[2]!, words[3]!, hash);
    }
    return this.filter.mayContain(jti) && this.others.has(jti);
  }

  get size(): number {
    return this.uuids.size + this.others.size;
  }

  add(jti: string): void {
    if (uuidWords(jti, words)) {
      this.addUuid(words[0]!, words[1]!, words[2]!, words[3]!);
      return;
    }
    const before = this.others.size;
    this.others.add(jti);
    // Stryker disable next-line ConditionalExpression: counting a repeated add only brings the rebuild forward (the `true` variant, adding nothing, is killed by the tests)
    if (this.others.size === before) return;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: when the filter is rebuilt only changes how many false maybes it gives
    if (this.filter.added >= this.filter.capacity) this.rebuild();
    else this.filter.add(jti);
  }

  /**
   * Adds canonical UUID jtis given packed (16 bytes each, as the sync wire carries them), the same
   * as `add` of each one's string, without making the strings.
   */
  addPacked(bytes: Uint8Array): void {
    if (bytes.length % UUID_BYTES !== 0) throw new RangeError(`${bytes.length} bytes are not a whole number of ${UUID_BYTES}-byte UUIDs`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let at = 0; at < bytes.length; at += UUID_BYTES) {
      this.addUuid(view.getUint32(at), view.getUint32(at + 4), view.getUint32(at + 8), view.getUint32(at + 12));
    }
  }

  /** Adds a canonical UUID jti given as its four words (as `uuidWords` gives them), the same as `add` of its string. */
  addUuid(w0: number, w1: number, w2: number, w3: number): void {
    const hash = UuidSet.hash(w0, w1, w2, w3);
    // Stryker disable next-line ConditionalExpression: counting a repeated add only brings the rebuild forward (the `true` variant, adding nothing, is killed by the tests)
    if (!this.uuids.add(w0, w1, w2, w3, hash)) return;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: when the filter is rebuilt only changes how many false maybes it gives
    if (this.filter.added >= this.filter.capacity) this.rebuild();
    else this.filter.addHash(hash);
  }

  delete(jti: string): void {
    if (uuidWords(jti, words)) this.uuids.delete(words[0]!, words[1]!, words[2]!, words[3]!);
    else this.others.delete(jti);
  }

  clear(): void {
    this.uuids = new UuidSet();
    this.others.clear();
    this.filter = new JtiFilter(this.minFilterCapacity);
  }

  /**
   * Takes over `other`'s contents in one step (a reload built aside): a verification never sees
   * the set half-filled.
   */
  adopt(other: RevocationSet): void {
    this.uuids = other.uuids;
    this.others = other.others;
    this.filter = other.filter;
    other.uuids = new UuidSet();
    other.others = new Set();
    other.filter = new JtiFilter(other.minFilterCapacity);
  }

  /** Every id held: UUIDs in their canonical form (the one they were added in). */
  *values(): IterableIterator<string> {
    yield* this.uuids.values();
    yield* this.others.values();
  }

  /**
   * Every id held in ascending string order (UTF-16 code units, as `<` compares): a bulk write
   * in this order appends to the store's indexes instead of scattering over them.
   */
  sortedValues(): IterableIterator<string> {
    return this.mergedWithOthers(this.uuids.sortedValues());
  }

  /**
   * The canonical UUIDs held, packed in ascending order `perSlice` to a slice (see
   * `UuidSet.sortedPackedInSlices`); `sortedOthers` has the rest. A bulk write of the two, one
   * after the other, still appends to the store's index in two runs.
   */
  sortedPackedUuidsInSlices(pause: () => Promise<void>, perSlice: number): Promise<IterableIterator<Uint8Array>> {
    return this.uuids.sortedPackedInSlices(pause, perSlice);
  }

  /** The ids held that are not canonical UUIDs, in ascending string order. */
  sortedOthers(): string[] {
    return [...this.others].sort();
  }

  private *mergedWithOthers(uuids: IterableIterator<string>): IterableIterator<string> {
    const others = this.sortedOthers();
    let o = 0;
    for (const uuid of uuids) {
      while (o < others.length && others[o]! < uuid) yield others[o++]!;
      yield uuid;
    }
    while (o < others.length) yield others[o++]!;
  }

  /** A filter of every id held, sized for twice as many: n adds cost O(n) in all. */
  private rebuild(): void {
    const filter = new JtiFilter(Math.max(this.minFilterCapacity, this.size * 2));
    this.uuids.forEach((_w0, _w1, _w2, _w3, hash) => filter.addHash(hash));
    for (const jti of this.others) filter.add(jti);
    this.filter = filter;
  }
}
