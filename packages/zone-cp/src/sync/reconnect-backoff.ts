/**
 * Exponential backoff with full jitter: attempt n waits a random time in [min, min·2^n], capped
 * at max, so many zones cut off together do not redial global in lockstep.
 */
export class ReconnectBackoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.round(this.minMs + this.random() * (ceiling - this.minMs));
  }

  reset(): void {
    this.attempt = 0;
  }
}
