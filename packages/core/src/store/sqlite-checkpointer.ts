import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** When a checkpoint runs, and how long its worker stays. */
export const CHECKPOINT_POLICY = {
  /** How often the writer's row count is looked at. */
  checkIntervalMs: 1_000,
  /** Rows written since the last checkpoint that are worth one now: a bulk write, or a busy plane's second. */
  rowsWorthACheckpoint: 1_000,
  /** Fewer rows (an idle plane's heartbeats) wait at most this long: a few hundred KB of log. */
  maxWaitMs: 5 * 60_000,
  /** A worker with no checkpoint to run for this long exits. */
  idleExitMs: 5_000,
  /** After a worker died (it could not open the file, say), the next one starts no sooner than this. */
  retryAfterFailureMs: 60_000,
};

/** What `PRAGMA wal_checkpoint` answers: frames in the log, and how many of them are in the file now. */
export interface CheckpointResult {
  busy: number;
  log: number;
  checkpointed: number;
}

// CommonJS, run as the worker's script: its own connection, one PASSIVE checkpoint per message.
// PASSIVE never waits for a lock: a checkpoint that cannot finish now is asked for again later.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
parentPort.on('message', (message) => {
  if (message === 'stop') { db.close(); parentPort.close(); return; }
  let result;
  try { result = db.pragma('wal_checkpoint(PASSIVE)')[0]; } catch { result = { busy: 1, log: -1, checkpointed: -1 }; }
  parentPort.postMessage(result);
});
`;

export interface SqliteCheckpointerOptions {
  /** Rows the writer connection has changed since it opened (SQLite's `total_changes()`). */
  rowsChanged: () => number;
  /** Told what each checkpoint answered (tests). */
  onCheckpoint?: (result: CheckpointResult) => void;
  policy?: Partial<typeof CHECKPOINT_POLICY>;
}

/**
 * Checkpoints an SQLite file in WAL mode from a worker thread, started when there is something
 * worth copying and stopped when idle.
 *
 * Off the event loop: SQLite's automatic checkpoint runs inside the COMMIT that crosses its
 * threshold, on the committing thread; after a million-row write that is a second or more of
 * copying and syncing during which every request waits. The writer turns it off
 * (`wal_autocheckpoint = 0`) and this does it instead.
 *
 * Started on demand: a worker is a second V8 isolate with its own copy of the driver, 10 to 15 MB
 * resident, and an idle plane writes a row every few seconds (heartbeats). Those wait in the log
 * (which is durable: every commit is synced) for a checkpoint until they are many or old, so an
 * idle plane runs a worker for a few seconds every few minutes rather than all the time.
 */
export class SqliteCheckpointer {
  private worker: Worker | undefined;
  private readonly timer: NodeJS.Timeout;
  /** `rowsChanged()` when the last checkpoint that copied everything was asked for. */
  private rowsCopied: number;
  private lastAskedAt = Date.now();
  private running: { rows: number } | undefined;
  private retryAt = 0;
  private stopped = false;
  private readonly policy: typeof CHECKPOINT_POLICY;

  constructor(
    private readonly path: string,
    private readonly options: SqliteCheckpointerOptions,
  ) {
    this.policy = { ...CHECKPOINT_POLICY, ...options.policy };
    this.rowsCopied = options.rowsChanged();
    this.timer = setInterval(() => this.tick(), this.policy.checkIntervalMs);
    this.timer.unref();
  }

  private tick(): void {
    if (this.running || this.stopped || Date.now() < this.retryAt) return;
    const rows = this.options.rowsChanged();
    const pending = rows - this.rowsCopied;
    const waited = Date.now() - this.lastAskedAt;
    const { rowsWorthACheckpoint, maxWaitMs, idleExitMs } = this.policy;
    if (pending >= rowsWorthACheckpoint || (pending > 0 && waited >= maxWaitMs)) this.checkpoint(rows);
    else if (this.worker && waited >= idleExitMs) void this.stopWorker();
  }

  private checkpoint(rows: number): void {
    this.running = { rows };
    this.lastAskedAt = Date.now();
    this.startedWorker().postMessage('checkpoint');
  }

  private finished(result: CheckpointResult): void {
    const rows = this.running?.rows;
    this.running = undefined;
    // Frames left behind (a reader or the writer held them): asked for again on a later tick.
    if (rows !== undefined && result.busy === 0 && result.log === result.checkpointed) this.rowsCopied = rows;
    this.options.onCheckpoint?.(result);
  }

  private startedWorker(): Worker {
    if (this.worker) return this.worker;
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path: this.path, driver } });
    worker.unref();
    worker.on('message', (result: CheckpointResult) => this.finished(result));
    // A worker that fails leaves the log to the next one: never a wrong answer, only a longer log.
    worker.on('error', () => undefined);
    worker.once('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      if (!this.running || this.stopped) return;
      // It died under a checkpoint: starting one every second would only die again as fast.
      this.retryAt = Date.now() + this.policy.retryAfterFailureMs;
      this.finished({ busy: 1, log: -1, checkpointed: -1 });
    });
    this.worker = worker;
    return worker;
  }

  private stopWorker(): Promise<void> {
    const worker = this.worker;
    if (!worker) return Promise.resolve();
    this.worker = undefined;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop');
    return Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]).then(async () => {
      await worker.terminate();
    });
  }

  /** Whether a worker is running now (tests). */
  get workerRunning(): boolean {
    return this.worker !== undefined;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    await this.stopWorker();
  }
}
