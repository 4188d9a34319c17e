import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** How often the WAL is copied back into the database file. */
const CHECKPOINT_INTERVAL_MS = 1_000;

// CommonJS, run as the worker's script: its own connection, checkpointing on a timer. PASSIVE
// never waits for a lock: a checkpoint that cannot finish now finishes on a later tick.
const WORKER_SOURCE = `
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path);
db.pragma('busy_timeout = 0');
const timer = setInterval(() => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch {}
}, workerData.intervalMs);
parentPort.on('message', () => { clearInterval(timer); db.close(); parentPort.close(); });
`;

/**
 * Checkpoints an SQLite file in WAL mode from a worker thread. SQLite's automatic checkpoint runs
 * inside the COMMIT that crosses its threshold, on the committing thread: after a million-row
 * write that is a second or more of copying during which the event loop (every request) waits.
 * The writer connection turns it off (`wal_autocheckpoint = 0`) and this does it off the loop.
 */
export class SqliteCheckpointer {
  private readonly worker: Worker;

  constructor(path: string) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { path, driver, intervalMs: CHECKPOINT_INTERVAL_MS } });
    this.worker.unref();
    // A worker that fails leaves the WAL to grow until the next start: never a wrong answer.
    this.worker.on('error', () => undefined);
  }

  private stopped = false;

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    await Promise.race([exited, new Promise<void>((resolve) => setTimeout(resolve, 1_000).unref())]);
    await this.worker.terminate();
  }
}
