/** What the sweep re-checks: a stream that ends itself once its zone token is no longer valid. */
export interface CredentialHolder {
  recheckCredential(): void;
}

/**
 * Re-checks the zone token of every open sync stream, on one timer for all of them, so that a
 * revoked, expired or key-removed token ends its stream within one interval whatever the zone
 * sends — or does not send.
 *
 * Why a sweep and not only the zone-token family's change events: with several global replicas on
 * one database, a revocation made on another replica reaches this one's KeyRing and RevocationSet
 * through the change-log reader, not through a write here. A sweep sees memory, however it changed.
 * A held token's re-check is a few lookups (no RSA, no shared cache): 10,000 streams cost a few
 * milliseconds per sweep, about 1% of a core at 250 ms. The timer runs only while a stream is open.
 */
export class CredentialSweep {
  private readonly holders = new Set<CredentialHolder>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly intervalMs: number) {}

  /** Starts re-checking `holder`; the returned function stops it (the stream is over). */
  watch(holder: CredentialHolder): () => void {
    this.holders.add(holder);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.holders.delete(holder);
      if (this.holders.size === 0) this.stopTimer();
    };
  }

  /** Re-checks every holder now (also when this process sees the zone-token family change). */
  sweep(): void {
    // A holder that ends itself unwatches during the loop: deleting from a Set while iterating is safe.
    for (const holder of this.holders) holder.recheckCredential();
  }

  stop(): void {
    this.holders.clear();
    this.stopTimer();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
