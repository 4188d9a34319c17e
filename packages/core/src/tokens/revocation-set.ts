/**
 * Revoked token ids of one family, in memory: a check is one hash lookup whatever the count.
 * The store holds the records (revokedAt, expiresAt); this holds only what a check needs.
 */
export class RevocationSet {
  private readonly jtis = new Set<string>();

  has(jti: string): boolean {
    return this.jtis.has(jti);
  }

  get size(): number {
    return this.jtis.size;
  }

  add(jti: string): void {
    this.jtis.add(jti);
  }

  delete(jti: string): void {
    this.jtis.delete(jti);
  }

  clear(): void {
    this.jtis.clear();
  }

  values(): IterableIterator<string> {
    return this.jtis.values();
  }
}
