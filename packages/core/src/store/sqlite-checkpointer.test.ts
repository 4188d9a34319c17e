import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3, { type Database } from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SqliteCheckpointer, type CheckpointResult } from './sqlite-checkpointer.js';

/** A real WAL file, written by a connection that never checkpoints itself (as the store's writer). */
let dir: string;
let path: string;
let db: Database;
let checkpointer: SqliteCheckpointer | undefined;
let ticks = 0;
const checkpoints: CheckpointResult[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'meshauth-checkpointer-'));
  path = join(dir, 'plane.db');
  db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.pragma('wal_autocheckpoint = 0');
  db.exec('CREATE TABLE t (v INTEGER)');
  db.pragma('wal_checkpoint(TRUNCATE)');
  ticks = 0;
  checkpoints.length = 0;
});

afterEach(async () => {
  await checkpointer?.stop();
  checkpointer = undefined;
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

function start(policy: { rowsWorthACheckpoint: number; maxWaitMs: number; idleExitMs?: number }, file = path): SqliteCheckpointer {
  const totalChanges = db.prepare('SELECT total_changes()').pluck();
  checkpointer = new SqliteCheckpointer(file, {
    rowsChanged: () => {
      ticks++;
      return totalChanges.get() as number;
    },
    onCheckpoint: (result) => checkpoints.push(result),
    policy: { checkIntervalMs: 10, idleExitMs: 50, ...policy },
  });
  return checkpointer;
}

function insert(rows: number): void {
  const statement = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) statement.run(i);
  })();
}

/** Rows the database file itself holds, without its log: what checkpoints have copied there. */
function rowsInFile(): number {
  const copy = join(dir, 'copy.db');
  copyFileSync(path, copy);
  const reader = new BetterSqlite3(copy);
  try {
    return reader.prepare('SELECT count(*) FROM t').pluck().get() as number;
  } finally {
    reader.close();
    for (const file of [copy, `${copy}-wal`, `${copy}-shm`]) rmSync(file, { force: true });
  }
}

describe('SqliteCheckpointer', () => {
  it('copies a bulk write into the database file from a worker, which exits once idle', async () => {
    const running = start({ rowsWorthACheckpoint: 100, maxWaitMs: 60_000 });
    insert(150);
    await vi.waitFor(() => expect(checkpoints.some((c) => c.busy === 0 && c.log > 0 && c.checkpointed === c.log)).toBe(true), { timeout: 10_000 });
    expect(rowsInFile()).toBe(150);
    await vi.waitFor(() => expect(running.workerRunning).toBe(false), { timeout: 10_000 });
  });

  it('leaves a few rows in the log, with no worker, until they are many', async () => {
    const running = start({ rowsWorthACheckpoint: 100, maxWaitMs: 60_000 });
    insert(5);
    const after = ticks;
    await vi.waitFor(() => expect(ticks).toBeGreaterThan(after + 10), { timeout: 10_000 });
    expect(running.workerRunning).toBe(false);
    expect(checkpoints).toEqual([]);
    expect(rowsInFile()).toBe(0);
    expect(db.prepare('SELECT count(*) FROM t').pluck().get()).toBe(5);
    // Enough more of them: copied, the first five with them.
    insert(100);
    await vi.waitFor(() => expect(rowsInFile()).toBe(105), { timeout: 10_000 });
  });

  it('copies a few rows once they have waited long enough', async () => {
    start({ rowsWorthACheckpoint: 100, maxWaitMs: 200 });
    insert(3);
    // The file may show the rows a moment before the worker's answer arrives: wait for both.
    await vi.waitFor(
      () => {
        expect(checkpoints.at(-1)).toMatchObject({ busy: 0 });
        expect(rowsInFile()).toBe(3);
      },
      { timeout: 10_000 },
    );
  });

  it('asks again for frames a reader kept it from copying', async () => {
    start({ rowsWorthACheckpoint: 100, maxWaitMs: 60_000 });
    // A reader on a snapshot from before the write: a checkpoint cannot copy past it.
    const reader = new BetterSqlite3(path, { readonly: true });
    reader.exec('BEGIN');
    reader.prepare('SELECT count(*) FROM t').get();
    insert(150);
    await vi.waitFor(() => expect(checkpoints.some((c) => c.checkpointed < c.log)).toBe(true), { timeout: 10_000 });
    expect(rowsInFile()).toBe(0);
    reader.exec('COMMIT');
    reader.close();
    await vi.waitFor(() => expect(rowsInFile()).toBe(150), { timeout: 10_000 });
  });

  it('waits before starting another worker after one died under a checkpoint', async () => {
    // A file the worker cannot open: it dies as it starts.
    start({ rowsWorthACheckpoint: 1, maxWaitMs: 60_000 }, join(dir, 'missing', 'plane.db'));
    insert(10);
    await vi.waitFor(() => expect(checkpoints).toEqual([{ busy: 1, log: -1, checkpointed: -1 }]), { timeout: 10_000 });
    // Thirty ticks later, still the one attempt (without the wait, a worker a tick would die as fast).
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(checkpoints).toHaveLength(1);
  });

  it('stops its worker when stopped', async () => {
    const running = start({ rowsWorthACheckpoint: 1, maxWaitMs: 60_000, idleExitMs: 60_000 });
    insert(10);
    await vi.waitFor(() => expect(checkpoints.length).toBeGreaterThan(0), { timeout: 10_000 });
    expect(running.workerRunning).toBe(true);
    await running.stop();
    expect(running.workerRunning).toBe(false);
  });
});
