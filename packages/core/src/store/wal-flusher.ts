import { open } from 'node:fs/promises';

/**
 * Flushes an SQLite write-ahead log to disk on libuv's thread pool while a bulk transaction is
 * still writing it. SQLite syncs the log at COMMIT, on the committing thread: after a million rows
 * that is tens of MB written back while every request waits. Synced along the way, the COMMIT
 * finds little left to write. It only makes data durable earlier: SQLite's own sync at COMMIT is
 * what acknowledges a write, and still runs.
 */
export class WalFlusher {
  private running: Promise<void> | undefined;

  /** `databasePath`: the database file (its log is `<path>-wal`). */
  constructor(private readonly databasePath: string) {}

  /** Starts a flush unless one is under way; never waits for it, never throws. */
  kick(): void {
    if (this.running !== undefined) return;
    this.running = this.flush().finally(() => (this.running = undefined));
  }

  /** Resolves once everything written so far is synced (a flush of its own after any under way). */
  async flushNow(): Promise<void> {
    await this.running;
    await this.flush();
  }

  private async flush(): Promise<void> {
    try {
      const log = await open(`${this.databasePath}-wal`, 'r+');
      try {
        await log.datasync();
      } finally {
        await log.close();
      }
    } catch {
      // No log yet, or the store is closing: COMMIT syncs what is there anyway.
    }
  }
}
