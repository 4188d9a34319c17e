import { JtiFilter } from './jti-filter.js';

/**
 * Revoked token ids of one family, in memory: a check is one hash lookup whatever the count, and
 * for ids not revoked (nearly all) usually not even that: a Bloom filter rules them out first.
 * The store holds the records (revokedAt, expiresAt); this holds only what a check needs.
 *
 * The filter is rebuilt from the set, twice as large, once it has taken as many adds as it was
 * sized for. A deleted id's bits stay until then: at worst a "maybe" the set then answers, and
 * since deletes never outnumber adds, the filter never holds more than it was sized for.
 */
export class RevocationSet {
  private jtis = new Set<string>();
  private filter: JtiFilter;

  /** `minFilterCapacity`: the smallest filter built (tests make it tiny to rebuild often). */
  constructor(private readonly minFilterCapacity = 1024) {
    this.filter = new JtiFilter(minFilterCapacity);
  }

  has(jti: string): boolean {
    // Stryker disable next-line ConditionalExpression: skipping the empty-set or the filter test only costs a lookup (the Set answers); the whole-expression variants are killed by the tests
    return this.jtis.size !== 0 && this.filter.mayContain(jti) && this.jtis.has(jti);
  }

  get size(): number {
    return this.jtis.size;
  }

  add(jti: string): void {
    const before = this.jtis.size;
    this.jtis.add(jti);
    // Stryker disable next-line ConditionalExpression: counting a repeated add only brings the rebuild forward (the `true` variant, adding nothing, is killed by the tests)
    if (this.jtis.size === before) return;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: when the filter is rebuilt only changes how many false maybes it gives
    if (this.filter.added >= this.filter.capacity) this.rebuild();
    else this.filter.add(jti);
  }

  delete(jti: string): void {
    this.jtis.delete(jti);
  }

  clear(): void {
    this.jtis.clear();
    this.filter = new JtiFilter(this.minFilterCapacity);
  }

  /**
   * Takes over `other`'s contents in one step (a reload built aside): a verification never sees
   * the set half-filled.
   */
  adopt(other: RevocationSet): void {
    this.jtis = other.jtis;
    this.filter = other.filter;
    other.jtis = new Set();
    other.filter = new JtiFilter(other.minFilterCapacity);
  }

  values(): IterableIterator<string> {
    return this.jtis.values();
  }

  /** A filter of every id held, sized for twice as many: n adds cost O(n) in all. */
  private rebuild(): void {
    const filter = new JtiFilter(Math.max(this.minFilterCapacity, this.jtis.size * 2));
    for (const jti of this.jtis) filter.add(jti);
    this.filter = filter;
  }
}
