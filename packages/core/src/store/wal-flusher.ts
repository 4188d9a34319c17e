import { open, type FileHandle } from 'node:fs/promises';

/** Syncs the log's data to disk (fdatasync), on libuv's thread pool. */
export type Datasync = () => Promise<void>;

/**
 * The log, opened once and kept open: a sync is then one trip to the thread pool, not three
 * (open, fdatasync, close), each queued behind the signatures an issuing plane keeps there. The
 * file stays the same while the store is open: SQLite removes it only when its last connection
 * closes, and reuses it from the start after a checkpoint.
 */
class OpenLog {
  private handle: Promise<FileHandle | undefined> | undefined;

  constructor(private readonly path: string) {}

  readonly datasync: Datasync = async () => {
    this.handle ??= open(this.path, 'r+').catch((error: NodeJS.ErrnoException) => {
      this.handle = undefined;
      // No log yet: nothing has been committed that is not in the database file already.
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    await (await this.handle)?.datasync();
  };

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await (await handle?.catch(() => undefined))?.close();
  }
}

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
  private readonly log: OpenLog;
  private readonly datasync: Datasync;

  /** `databasePath`: the database file (its log is `<path>-wal`); `datasync` replaces the real one in tests. */
  constructor(databasePath: string, datasync?: Datasync) {
    this.log = new OpenLog(`${databasePath}-wal`);
    this.datasync = datasync ?? this.log.datasync;
  }

  /** Waits for a sync under way, then lets the log go (the store is closing). */
  async close(): Promise<void> {
    await this.next?.catch(() => undefined);
    await this.running?.catch(() => undefined);
    await this.log.close();
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

  /** Starts a sync unless one is under way; never waits for it, never throws (a failing disk fails the next `sync()` too). */
  kick(): void {
    if (this.running === undefined) this.start().catch(() => undefined);
  }

  private start(): Promise<void> {
    const flush: Promise<void> = this.datasync().finally(() => {
      if (this.running === flush) this.running = undefined;
    });
    this.running = flush;
    return flush;
  }
}
