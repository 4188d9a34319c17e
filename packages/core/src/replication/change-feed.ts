import { EventEmitter } from 'node:events';
import { MeshAuthError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ChangeHint, CommittedVersion, NewChange, Store, VersionInfo } from '../store/store.js';
import { importSigningKey } from '../tokens/signing-key.js';
import { emptyFamilyChange, type FamilyChange, type TokenFamily } from '../tokens/token-family.js';

/** Change rows read per query: a million-revocation import is applied in pages. */
const PAGE_ROWS = 50_000;
/**
 * Read the log this often even without a hint: a notification lost (or a connection that
 * dropped it) delays a change by at most this long, and never loses it.
 */
export const CATCH_UP_INTERVAL_MS = 1_000;
/**
 * On SQLite only this process writes the file (one process per file), and every commit it makes
 * hints the feed at once: the periodic read only retries a read that failed. Once a second at
 * 10,000 zones held by one benchmark process was most of their idle CPU; a real zone pays it too.
 */
export const SQLITE_CATCH_UP_INTERVAL_MS = 10_000;
/** A writer waits at most this long for its own version to reach memory. */
const APPLY_TIMEOUT_MS = 10_000;

/** One committed version as this process applied it to memory. */
export interface AppliedVersion extends VersionInfo {
  /** Per family id, what the version changed there. */
  changes: Map<string, FamilyChange>;
  /** Memory was rebuilt from the tables (this process fell behind the kept log). */
  reloadedAll: boolean;
}

export interface ChangeFeedOptions {
  store: Store;
  logger: Logger;
  /** The family of an id, created (empty) when this process has not seen it yet. */
  family(id: string): TokenFamily;
  /** Every family this process holds, for a full reload. */
  families(): TokenFamily[];
  /** The store's version the families were loaded at. */
  loadedAt: number;
}

/**
 * Memory follows the store's change log: every process applies the log, version after version,
 * from the version its memory holds, its own writes included, so one replica and many take the
 * same path. Reading is triggered by the store's hints (a commit here, a NOTIFY from another
 * replica), by writers waiting for their own version, and by a periodic catch-up. Versions become
 * visible in order (the store serializes writes), so reading "after N" never misses a change
 * below N.
 *
 * A commit made here is applied from what it wrote, which its hint carries, when it is the very
 * next version memory lacks: those rows are the log's rows of that version (versions are
 * numbered one by one, and only its transaction wrote under its number), so reading them back
 * would only cost statements. At 10,000 zones that read was three of the dozen statements every
 * live change cost each zone. Anything else (a gap, a version announced by another replica, a
 * hint that knows nothing) is read from the log.
 */
export class ChangeFeed {
  private applied: number;
  /** Where reading stopped: inside a version when a page ended there. */
  private cursor: { version: number; seq: number };
  private running: Promise<void> | undefined;
  private again = false;
  /** A writer began waiting while a read ran (see `untilApplied`). */
  private waiterArrived = false;
  /** This process's commits memory does not show yet, by version, as their hints carried them. */
  private readonly committedHere = new Map<number, CommittedVersion>();
  /** The log must be read: a hint that did not say what changed, a tick, a writer still waiting. */
  private logOwed = false;
  /** The newest version a notification announced. */
  private announced = 0;
  private stopped = false;
  private readonly events = new EventEmitter();
  private readonly waiters: { version: number; resolve: () => void }[] = [];
  private readonly timer: NodeJS.Timeout;
  private readonly unsubscribe: () => void;

  constructor(private readonly options: ChangeFeedOptions) {
    this.applied = options.loadedAt;
    this.cursor = { version: options.loadedAt, seq: Number.MAX_SAFE_INTEGER };
    this.events.setMaxListeners(0);
    this.unsubscribe = options.store.onChangeHint((hint) => this.catchUp(hint));
    this.timer = setInterval(() => this.catchUp(), options.store.type === 'sqlite' ? SQLITE_CATCH_UP_INTERVAL_MS : CATCH_UP_INTERVAL_MS);
    this.timer.unref();
  }

  /** The newest version whose changes are all in memory. */
  get version(): number {
    return this.applied;
  }

  onApplied(listener: (applied: AppliedVersion) => void): () => void {
    this.events.on('applied', listener);
    return () => this.events.off('applied', listener);
  }

  /**
   * Resolves once memory shows `version` (a writer waiting for its own commit). Rejects with a
   * 503 when the log cannot be read for that long: the write is committed, and memory follows as
   * soon as the store answers again.
   */
  untilApplied(version: number): Promise<void> {
    if (this.applied >= version) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => {
      let timeout: NodeJS.Timeout;
      const arm = (): void => {
        timeout = setTimeout(() => {
          // A read still under way is the log being read (a million-revocation reload takes
          // seconds on a busy machine): wait on; only a store that does not answer fails the write.
          if (this.running && !this.stopped) return arm();
          const at = this.waiters.indexOf(waiter);
          if (at >= 0) this.waiters.splice(at, 1);
          reject(new MeshAuthError('ERR_STORE_UNAVAILABLE', `the change was committed as version ${version}, but the store's change log could not be read back within ${APPLY_TIMEOUT_MS / 1000} s; it takes effect once ${this.options.store.location} answers again`));
        }, APPLY_TIMEOUT_MS);
      };
      const waiter = { version, resolve: () => (clearTimeout(timeout), resolve()) };
      arm();
      this.waiters.push(waiter);
    });
    // A pass under way may cover this version already: a commit's hint starts one before its
    // writer gets here. Whether to read once more is decided when that pass ends, by whether the
    // version is in memory then; asking now would read the log twice per write.
    if (this.running) this.waiterArrived = true;
    else void this.catchUp();
    return waiting;
  }

  /**
   * Brings memory up to what the hint says, and reads the log when it says nothing (the default):
   * a call made while a pass runs folds into one more pass after it.
   */
  catchUp(hint: ChangeHint = {}): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (hint.committed) {
      if (hint.committed.version > this.applied) this.committedHere.set(hint.committed.version, hint.committed);
    } else if (hint.version !== undefined) {
      this.announced = Math.max(this.announced, hint.version);
    } else {
      this.logOwed = true;
    }
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        if (this.waiterArrived && this.waiters.some((w) => w.version > this.applied)) this.logOwed = true;
        this.waiterArrived = false;
        try {
          await this.applyCommittedHere();
          // Still owed after this process's own commits: a gap before one of them, or anything else.
          if (this.logOwed || this.announced > this.applied || this.committedHere.size > 0) await this.readLog();
        } catch (error) {
          // The store is away: memory keeps what it has; the next hint or tick tries again.
          this.options.logger.warn({ err: error }, 'could not read the change log; memory keeps its state and retries');
          break;
        }
      } while ((this.again || (this.waiterArrived && this.waiters.some((w) => w.version > this.applied))) && !this.stopped);
    })().finally(() => (this.running = undefined));
    return this.running;
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.unsubscribe();
  }

  /** This process's commits, while the next version memory lacks is one of them. */
  private async applyCommittedHere(): Promise<void> {
    for (let next = this.committedHere.get(this.applied + 1); next; next = this.committedHere.get(this.applied + 1)) {
      this.committedHere.delete(next.version);
      const applied = this.startVersion(next.version, next);
      for (const change of next.changes) await this.apply(change, next.version, applied);
      this.cursor = { version: next.version, seq: Number.MAX_SAFE_INTEGER };
      this.finish(next.version, applied);
    }
  }

  private async readLog(): Promise<void> {
    // Owed no more, unless a hint arrives meanwhile (that one sets it again).
    this.logOwed = false;
    try {
      await this.readLogPages();
    } finally {
      for (const version of this.committedHere.keys()) if (version <= this.applied) this.committedHere.delete(version);
    }
  }

  private async readLogPages(): Promise<void> {
    const { read } = this.options.store;
    if (this.applied < (await read.changeLogFloor())) return this.reloadAll();
    let pending: { info: AppliedVersion | undefined; version: number } | undefined;
    for (;;) {
      const rows = await read.changesAfter(this.cursor.version, this.cursor.seq, PAGE_ROWS);
      if (rows.length === 0) break;
      const last = rows[rows.length - 1]!;
      const infos = new Map((await read.versionsBetween(this.applied, last.version)).map((v) => [v.version, v]));
      for (const row of rows) {
        if (pending && pending.version !== row.version) this.finish(pending.version, pending.info);
        if (!pending || pending.version !== row.version) pending = { version: row.version, info: this.startVersion(row.version, infos.get(row.version)) };
        await this.apply(row, row.version, pending.info!);
        this.cursor = { version: row.version, seq: row.seq };
      }
      // A short page ends at the log's end, and versions commit whole: the last one is complete.
      if (rows.length < PAGE_ROWS) break;
    }
    if (pending) this.finish(pending.version, pending.info);
  }

  private startVersion(version: number, info: VersionInfo | undefined): AppliedVersion {
    return { version, id: info?.id ?? '', committedAt: info?.committedAt ?? 0, changes: new Map(), reloadedAll: false };
  }

  private change(applied: AppliedVersion, family: string): FamilyChange {
    let change = applied.changes.get(family);
    if (!change) applied.changes.set(family, (change = emptyFamilyChange(applied.version)));
    return change;
  }

  private async apply(row: NewChange, version: number, applied: AppliedVersion): Promise<void> {
    const { store } = this.options;
    const family = this.options.family(row.family);
    const change = this.change(applied, row.family);
    if (row.entity === 'family') {
      await family.load(store.read, version);
      change.reloaded = true;
    } else if (row.entity === 'key') {
      const serial = Number(row.ref);
      if (row.op === 'delete') {
        family.keys.delete(serial);
        change.keysPut = change.keysPut.filter((k) => k.serial !== serial);
        change.keysDeleted.push(serial);
      } else {
        // Read as it is now: a key changed again later arrives in its final form, which later rows confirm.
        const key = await store.read.getKey(row.family, serial);
        if (key) {
          const imported = importSigningKey(key);
          family.keys.set(imported);
          change.keysPut.push(imported);
        }
      }
    } else if (row.op === 'delete') {
      family.revocations.delete(row.ref);
      change.revocationsDeleted.push(row.ref);
    } else {
      family.revocations.add(row.ref);
      change.revocationsAdded.push({ jti: row.ref, expiresAt: row.expiresAt });
    }
  }

  private finish(version: number, applied: AppliedVersion | undefined): void {
    this.applied = version;
    if (applied) {
      for (const [id, change] of applied.changes) this.options.family(id).changed(change);
      this.events.emit('applied', applied);
    }
    this.release();
  }

  /** Behind what the log still holds (a long outage while the leader pruned): read the tables whole. */
  private async reloadAll(): Promise<void> {
    const { read } = this.options.store;
    const version = await read.version();
    for (const family of this.options.families()) await family.load(read);
    this.options.logger.warn({ from: this.applied, to: version }, 'memory fell behind the kept change log: reloaded every family from the store');
    const info = await read.versionInfo(version);
    this.applied = version;
    this.cursor = { version, seq: Number.MAX_SAFE_INTEGER };
    this.events.emit('applied', { ...this.startVersion(version, info), reloadedAll: true });
    this.release();
  }

  private release(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i]!.version <= this.applied) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }
}
