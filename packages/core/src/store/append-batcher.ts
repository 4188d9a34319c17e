/**
 * Group commit for appends that have no transaction of their own: whatever arrives while one
 * write is under way (or in the same turn of the event loop) goes into the next write, together.
 * Ten thousand zones connecting at once (their audit entries) or a hundred tokens issued at once
 * (their records) cost a handful of transactions instead of one each. Each caller still waits for
 * its own item to be written, and sees the error if that write fails (as do the items it shared
 * the write with).
 */
export class AppendBatcher<T> {
  private pending: { item: T; resolve: () => void; reject: (error: unknown) => void }[] = [];
  private draining = false;

  constructor(
    private readonly writeAll: (items: T[]) => Promise<void>,
    private readonly maxBatch = 1_000,
  ) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (!this.draining) {
        this.draining = true;
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0, this.maxBatch);
      try {
        await this.writeAll(batch.map((b) => b.item));
        for (const b of batch) b.resolve();
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.draining = false;
  }
}
