/** What the sweep re-checks: a stream that ends itself once its zone token is no longer valid. */
export interface CredentialHolder {
  recheckCredential(): void;
}

/** A full re-check at least this often, whatever the stamp says: a safety net, 10,000 streams cost a few ms. */
const FULL_SWEEP_MS = 5_000;

/**
 * Re-checks the zone token of every open sync stream, on one timer for all of them, so that a
 * revoked, expired or key-removed token ends its stream within one interval whatever the zone
 * sends — or does not send.
 *
 * Why a sweep and not only the zone-token family's change events: with several global replicas on
 * one database, a revocation made on another replica reaches this one's KeyRing and RevocationSet
 * through the change-log reader, not through a write here, and a full reload of memory emits no
 * per-family change. A sweep sees memory, however it changed.
 *
 * Cheap at 10,000 streams: a tick re-checks every stream only when `stamp()` (the version of the
 * change log this replica's memory holds) moved since the last sweep — memory, the zone-token
 * family's included, changes only by applying the log — and otherwise at most every 5 s. Expiry
 * needs no sweep: each stream has a timer at its token's exp. The timer runs only while a stream is open.
 */
export class CredentialSweep {
  private readonly holders = new Set<CredentialHolder>();
  private timer: NodeJS.Timeout | undefined;
  private sweptStamp: unknown;
  private sweptAt = 0;

  constructor(
    private readonly intervalMs: number,
    /** Without one, every tick re-checks every holder. */
    private readonly stamp: () => unknown = () => Symbol('tick'),
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts re-checking `holder`; the returned function stops it (the stream is over). */
  watch(holder: CredentialHolder): () => void {
    this.holders.add(holder);
    if (!this.timer) {
      this.sweptStamp = this.stamp();
      this.sweptAt = this.now();
      this.timer = setInterval(() => this.tick(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.holders.delete(holder);
      if (this.holders.size === 0) this.stopTimer();
    };
  }

  /** Re-checks every holder now (also when this process sees the zone-token family change). */
  sweep(): void {
    this.sweptStamp = this.stamp();
    this.sweptAt = this.now();
    // A holder that ends itself unwatches during the loop: deleting from a Set while iterating is safe.
    for (const holder of this.holders) holder.recheckCredential();
  }

  stop(): void {
    this.holders.clear();
    this.stopTimer();
  }

  private tick(): void {
    if (this.stamp() !== this.sweptStamp || this.now() - this.sweptAt >= FULL_SWEEP_MS) this.sweep();
  }

  private stopTimer(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
