import { open } from 'node:fs/promises';

/** Syncs a file's data to disk (fdatasync), on libuv's thread pool. */
export type Datasync = (path: string) => Promise<void>;

const datasyncFile: Datasync = async (path) => {
  let file;
  try {
    file = await open(path, 'r+');
  } catch (error) {
    // No log: the last connection checkpointed it into the database file (and synced that) and
    // removed it; nothing is waiting in it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    await file.datasync();
  } finally {
    await file.close();
  }
};

/**
 * Makes an SQLite write-ahead log durable off the event loop. The store runs SQLite with
 * `synchronous = NORMAL`: COMMIT writes the log without syncing it (SQLite would sync on the
 * committing thread: a millisecond or more per write, tens of milliseconds after a bulk write,
 * during which every request waits). The store answers a write only once `sync()` has resolved,
 * so what it acknowledged survives a power cut as it did with FULL.
 *
 * Syncs are shared: writes committed while one runs wait for the next, one sync for all of them
 * (group commit). During a bulk write `kick()` starts syncs along the way, so the last one finds
 * little left to write.
 */
export class WalFlusher {
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private readonly logPath: string;

  /** `databasePath`: the database file (its log is `<path>-wal`). */
  constructor(
    databasePath: string,
    private readonly datasync: Datasync = datasyncFile,
  ) {
    this.logPath = `${databasePath}-wal`;
  }

  /**
   * Resolves once everything committed before the call is on disk; rejects if the sync failed
   * (the write may then be lost on a power cut, and must not be reported done).
   */
  sync(): Promise<void> {
    if (this.running === undefined) return this.start();
    // The sync under way may have started before this commit: the next one covers it.
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  /** Starts a sync unless one is under way; never waits for it, never throws (a failure reaches the next `sync()`). */
  kick(): void {
    if (this.running === undefined) this.start().catch(() => undefined);
  }

  private start(): Promise<void> {
    const flush: Promise<void> = this.datasync(this.logPath).finally(() => {
      if (this.running === flush) this.running = undefined;
    });
    this.running = flush;
    return flush;
  }
}
