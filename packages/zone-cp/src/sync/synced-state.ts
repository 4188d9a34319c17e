import type { SqliteStore, SyncMode } from '@meshauth/core';

const KEYS = { epoch: 'sync.globalEpoch', version: 'sync.appliedVersion', versionId: 'sync.appliedVersionId', mode: 'sync.appliedMode', contact: 'sync.lastContactAt', syncedAt: 'sync.lastSyncAt' } as const;

/**
 * Where the zone stands relative to global, persisted in the zone store's meta so a restart
 * (even while global is down) resumes from it: global's epoch and the version last applied with
 * the id global gave it (together they name the history applied), the mode it arrived in, and
 * when global was last heard from (for the down policy).
 */
export class SyncedState {
  epoch: string;
  appliedVersion: number;
  /** '' until a batch from a global that names its versions has been applied. */
  appliedVersionId: string;
  appliedMode: SyncMode;
  lastContactAt: number | undefined;
  lastSyncAt: number | undefined;
  private persistedContactAt: number | undefined;

  constructor(private readonly store: SqliteStore) {
    this.epoch = store.getMeta(KEYS.epoch) ?? '';
    this.appliedVersion = Number(store.getMeta(KEYS.version) ?? '0');
    this.appliedVersionId = store.getMeta(KEYS.versionId) ?? '';
    this.appliedMode = (store.getMeta(KEYS.mode) as SyncMode | undefined) ?? 'off';
    const contact = store.getMeta(KEYS.contact);
    this.lastContactAt = contact === undefined ? undefined : Number(contact);
    this.persistedContactAt = this.lastContactAt;
    const syncedAt = store.getMeta(KEYS.syncedAt);
    this.lastSyncAt = syncedAt === undefined ? undefined : Number(syncedAt);
  }

  /** Call inside the transaction that applies the batch: both commit or neither does. */
  recordApplied(epoch: string, version: number, versionId: string, mode: SyncMode, now: number): void {
    this.store.setMeta(KEYS.epoch, epoch);
    this.store.setMeta(KEYS.version, String(version));
    this.store.setMeta(KEYS.versionId, versionId);
    this.store.setMeta(KEYS.mode, mode);
    this.store.setMeta(KEYS.contact, String(now));
    this.store.setMeta(KEYS.syncedAt, String(now));
  }

  /** After the transaction committed: the in-memory view follows. */
  applied(epoch: string, version: number, versionId: string, mode: SyncMode, now: number): void {
    Object.assign(this, { epoch, appliedVersion: version, appliedVersionId: versionId, appliedMode: mode, lastContactAt: now, lastSyncAt: now, persistedContactAt: now });
  }

  /**
   * Sync turned off: what the zone holds is its own from now on, so a later sync must start
   * with a snapshot, not a delta on top of state that may have changed locally meanwhile.
   */
  forget(): void {
    this.store.transaction(() => {
      for (const key of Object.values(KEYS)) this.store.deleteMeta(key);
    });
    Object.assign(this, { epoch: '', appliedVersion: 0, appliedVersionId: '', appliedMode: 'off', lastContactAt: undefined, lastSyncAt: undefined, persistedContactAt: undefined });
  }

  /** Heard from global: kept in memory always, written at most every `persistEveryMs`. */
  contact(now: number, persistEveryMs: number): void {
    this.lastContactAt = now;
    if (this.persistedContactAt === undefined || now - this.persistedContactAt >= persistEveryMs) {
      this.store.transaction(() => this.store.setMeta(KEYS.contact, String(now)));
      this.persistedContactAt = now;
    }
  }
}
