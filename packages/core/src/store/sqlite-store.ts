import { accessSync, chmodSync, constants, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import BetterSqlite3, { type Database, type Statement } from 'better-sqlite3';
import { MeshAuthError } from '../errors.js';
import { AsyncMutex } from './async-mutex.js';
import { migrate } from './sqlite-migrations.js';
import { WalFlusher } from './wal-flusher.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { SqliteReads, SqliteWrites } from './sqlite-statements.js';
import type { ChangeHint, InstanceRow, Store, StoreLease, StoreTx, ZoneStatusRow } from './store.js';

/**
 * The embedded store: one SQLite file (WAL, synchronous=FULL, mode 0600) used by one process.
 * Transactions run on a writer connection, one at a time (an async mutex: a transaction may
 * await between statements); reads outside them use a second connection, so they only ever see
 * committed state. A single process leads every lease and its locks are in-process.
 */
/**
 * How a store is laid out and cached, by the writes it mostly takes (see `SqliteStore.open`).
 *
 * Pages: a store that takes bulk writes (global: a million-revocation import) wants large ones:
 * 16 KiB cut the import's B-tree work by about a quarter against SQLite's default 4 KiB. A store
 * fed a stream of small writes (a zone: one delta per revocation, every one its own transaction)
 * wants small ones, because a transaction journals every page it touches in full (in a file's
 * WAL: writes it out whole), and a one-row delta touches five: at 4 KiB a zone's apply of one took
 * two thirds of the time it took at 16 KiB (92–100 µs against 132–145 µs per zone, 500 in-memory
 * zones in one process), and its full sync of a million was no slower.
 *
 * The writer's page cache: global keeps the driver's 16 MB. A zone's deltas touch a few pages,
 * and its revocations are read from memory, not from the store; what a larger cache holds is a
 * snapshot's pages, kept resident after it was applied and written out in its COMMIT, on the
 * event loop. At 4 MB a zone synced with a million revocations held 132–140 MB against 146–151 MB
 * at 16 MB (four pairs of runs, the full sync no slower).
 */
export const SQLITE_PROFILES = {
  bulk: { pageBytes: 16_384, writerCacheKiB: 16_000 },
  deltas: { pageBytes: 4_096, writerCacheKiB: 4_000 },
} as const;

export type SqliteProfile = (typeof SQLITE_PROFILES)[keyof typeof SQLITE_PROFILES];

export class SqliteStore implements Store {
  readonly type = 'sqlite' as const;
  readonly location: string;
  readonly epoch: string;
  readonly read: SqliteReads;
  /** The writer connection (tests inspect pragmas through it). */
  readonly db: Database;
  private readonly readerDb: Database;
  private readonly writes: SqliteWrites;
  private readonly writeLock = new AsyncMutex();
  private readonly namedLocks = new Map<string, AsyncMutex>();
  private readonly hints = new EventEmitter();
  private readonly checkpointer: SqliteCheckpointer | undefined;
  /** Syncs the log before a write is answered (none for an in-memory database). */
  private readonly flusher: WalFlusher | undefined;
  /** Prepared once: `exec` parses its SQL again on every call, and every write runs all three. */
  private readonly control: Record<'begin' | 'commit' | 'rollback', Statement>;

  private constructor(db: Database, readerDb: Database, path: string) {
    this.db = db;
    this.readerDb = readerDb;
    this.location = path;
    this.read = new SqliteReads(readerDb);
    this.flusher = path === ':memory:' ? undefined : new WalFlusher(path);
    this.writes = new SqliteWrites(db, this.flusher);
    this.control = { begin: db.prepare('BEGIN IMMEDIATE'), commit: db.prepare('COMMIT'), rollback: db.prepare('ROLLBACK') };
    this.epoch = this.writes.epochOrCreate(randomUUID());
    // From here on, NORMAL: COMMIT writes the log without syncing it, and every write is answered
    // only once `durable()` has synced it on the thread pool. A write the API acknowledged survives
    // a power cut or SIGKILL as with FULL, and the event loop never waits on the disk.
    db.pragma('synchronous = NORMAL');
    if (path !== ':memory:') {
      db.pragma('wal_autocheckpoint = 0');
      const totalChanges = db.prepare('SELECT total_changes()').pluck();
      this.checkpointer = new SqliteCheckpointer(path, { rowsChanged: () => totalChanges.get() as number });
    }
  }

  /** Opens (creating if needed) the store; a file it cannot open or write is a one-line 503 naming why. */
  static open(path: string, { profile = SQLITE_PROFILES.bulk }: { profile?: SqliteProfile } = {}): SqliteStore {
    let db: Database | undefined;
    let readerDb: Database | undefined;
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      db = new BetterSqlite3(path);
      // Only a new database takes it: an existing one keeps its own.
      db.pragma(`page_size = ${profile.pageBytes}`);
      db.pragma('journal_mode = WAL');
      db.pragma(`cache_size = -${profile.writerCacheKiB}`);
      // What opening writes (migrations, the epoch) is synced by its own COMMIT; see the constructor.
      db.pragma('synchronous = FULL');
      db.pragma('busy_timeout = 5000');
      db.pragma('foreign_keys = ON');
      migrate(db);
      if (path !== ':memory:') {
        for (const file of [path, `${path}-wal`, `${path}-shm`]) if (existsSync(file)) chmodSync(file, 0o600);
      }
      // An in-memory database exists once per connection: there the reader is the writer.
      readerDb = path === ':memory:' ? db : new BetterSqlite3(path, { readonly: true });
      if (readerDb !== db) readerDb.pragma('busy_timeout = 5000');
      return new SqliteStore(db, readerDb, path);
    } catch (error) {
      if (readerDb !== db) readerDb?.close();
      db?.close();
      throw openError(path, error);
    }
  }

  async transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T> {
    const { result, recorded } = await this.writeLock.run(async () => {
      this.writes.recorded = undefined;
      try {
        this.control.begin.run();
      } catch (error) {
        throw storeError(error);
      }
      let result: T;
      try {
        result = await fn(this.writes);
        this.control.commit.run();
      } catch (error) {
        if (this.db.inTransaction) this.control.rollback.run();
        this.writes.recorded = undefined;
        throw storeError(error);
      }
      return { result, recorded: this.writes.recorded };
    });
    // Outside the lock: the next write commits while this one's log is synced, and shares the sync after.
    try {
      await this.durable();
    } finally {
      // Memory follows the file, synced or not (a failed sync still left the change there).
      if (recorded) this.hints.emit('hint', { committed: recorded } satisfies ChangeHint);
    }
    return result;
  }

  /**
   * Resolves once every commit so far is on disk. A commit is hinted to memory only after that
   * (above), but a read of the log or the file may meet a later commit whose sync is still under
   * way: seen a moment before its writer is answered, never answered before it is on disk. A
   * write whose sync fails is reported failed, never done.
   */
  private async durable(): Promise<void> {
    try {
      await this.flusher?.sync();
    } catch (error) {
      throw new MeshAuthError('ERR_STORE_UNAVAILABLE', `the change was written to ${this.location} but could not be synced to disk (${(error as Error).message}); it may not survive a power cut`, { cause: error });
    }
  }

  async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    let lock = this.namedLocks.get(name);
    if (!lock) this.namedLocks.set(name, (lock = new AsyncMutex()));
    return lock.run(fn);
  }

  /** One process per file: it always holds every lease. */
  lease(_name: string, _owner: string): StoreLease {
    return { held: true, onChange: () => () => {}, release: async () => {} };
  }

  onChangeHint(listener: (hint: ChangeHint) => void): () => void {
    this.hints.on('hint', listener);
    return () => this.hints.off('hint', listener);
  }

  async upsertZoneStatus(rows: ZoneStatusRow[]): Promise<void> {
    await this.writeLock.run(async () => {
      try {
        this.writes.upsertZoneStatus(rows);
      } catch (error) {
        throw storeError(error);
      }
    });
    await this.durable();
  }

  async listZoneStatus(): Promise<ZoneStatusRow[]> {
    return this.read.listZoneStatus();
  }

  async heartbeatInstance(row: InstanceRow, since: number): Promise<InstanceRow[]> {
    await this.writeLock.run(async () => {
      try {
        this.writes.upsertInstance(row);
      } catch (error) {
        throw storeError(error);
      }
    });
    await this.durable();
    return this.read.instancesSeenSince(since);
  }

  async close(): Promise<void> {
    if (this.checkpointer) await this.checkpointer.stop();
    await this.writeLock.run(async () => {
      if (this.readerDb !== this.db && this.readerDb.open) this.readerDb.close();
      if (this.db.open) this.db.close();
    });
    // After the last connection: SQLite has removed the log by then, so a late sync finds none to open.
    await this.flusher?.close();
  }
}

/** Why a store cannot be opened, in words an operator can act on. */
function openError(path: string, error: unknown): unknown {
  if (error instanceof MeshAuthError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (!code.startsWith('SQLITE_') && !code.startsWith('E')) return error;
  const writable = (p: string) => {
    try {
      accessSync(p, constants.W_OK);
      return true;
    } catch {
      return false;
    }
  };
  const why =
    code.startsWith('SQLITE_READONLY') || code === 'EROFS' || code === 'EACCES' || !writable(dirname(path)) || (existsSync(path) && !writable(path))
      ? 'the file or its directory is read-only'
    : code.startsWith('SQLITE_FULL') || code === 'ENOSPC' ? 'the disk is full'
    : code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT') ? 'the file is not a meshauth store or is corrupt'
    : (error as Error).message;
  return new MeshAuthError('ERR_STORE_UNAVAILABLE', `cannot open the store ${path}: ${why}`, { cause: error });
}

/** Disk full, read-only file, locked database: name it, never pretend the write happened. */
export function storeError(error: unknown): unknown {
  if (error instanceof MeshAuthError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code.startsWith('SQLITE_')) {
    const why =
      code.startsWith('SQLITE_READONLY') ? 'the store file is read-only'
      : code.startsWith('SQLITE_FULL') ? 'the disk is full'
      : code.startsWith('SQLITE_BUSY') ? 'the store is busy'
      : `SQLite error ${code}`;
    return new MeshAuthError('ERR_STORE_UNAVAILABLE', `cannot write to the store: ${why}; nothing was changed`, { cause: error });
  }
  return error;
}
