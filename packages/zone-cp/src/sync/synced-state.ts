import type { Logger, Store, StoreTx, SyncMode } from '@meshauth/core';

const KEYS = { epoch: 'sync.globalEpoch', version: 'sync.appliedVersion', versionId: 'sync.appliedVersionId', mode: 'sync.appliedMode', contact: 'sync.lastContactAt', syncedAt: 'sync.lastSyncAt' } as const;

/**
 * Where the zone stands relative to global, persisted in the zone store's meta so a restart
 * (even while global is down) resumes from it: global's epoch and the version last applied with
 * the id global gave it (together they name the history applied), the mode it arrived in, and
 * when global was last heard from (for the down policy).
 */
export class SyncedState {
  epoch = '';
  appliedVersion = 0;
  /** '' until a batch from a global that names its versions has been applied. */
  appliedVersionId = '';
  appliedMode: SyncMode = 'off';
  lastContactAt: number | undefined;
  lastSyncAt: number | undefined;
  private persistedContactAt: number | undefined;

  private constructor(
    private readonly store: Store,
    private readonly logger: Logger | undefined,
  ) {}

  static async load(store: Store, logger?: Logger): Promise<SyncedState> {
    const state = new SyncedState(store, logger);
    await state.refresh();
    return state;
  }

  /**
   * Reads the position from the store again: a zone replica that does not hold the stream follows
   * what the leader records there (and a new leader starts from it).
   */
  async refresh(): Promise<void> {
    const meta = (key: string) => this.store.read.getMeta(key);
    const [epoch, version, versionId, mode, contact, syncedAt] = await Promise.all(
      [KEYS.epoch, KEYS.version, KEYS.versionId, KEYS.mode, KEYS.contact, KEYS.syncedAt].map(meta),
    );
    this.epoch = epoch ?? '';
    this.appliedVersion = Number(version ?? '0');
    this.appliedVersionId = versionId ?? '';
    this.appliedMode = (mode as SyncMode | undefined) ?? 'off';
    this.lastContactAt = contact === undefined ? undefined : Number(contact);
    this.persistedContactAt = this.lastContactAt;
    this.lastSyncAt = syncedAt === undefined ? undefined : Number(syncedAt);
  }

  /** Call inside the transaction that applies the batch: both commit or neither does. */
  async recordApplied(tx: StoreTx, epoch: string, version: number, versionId: string, mode: SyncMode, now: number): Promise<void> {
    await tx.setMetas([
      [KEYS.epoch, epoch],
      [KEYS.version, String(version)],
      [KEYS.versionId, versionId],
      [KEYS.mode, mode],
      [KEYS.contact, String(now)],
      [KEYS.syncedAt, String(now)],
    ]);
  }

  /** After the transaction committed: the in-memory view follows. */
  applied(epoch: string, version: number, versionId: string, mode: SyncMode, now: number): void {
    Object.assign(this, { epoch, appliedVersion: version, appliedVersionId: versionId, appliedMode: mode, lastContactAt: now, lastSyncAt: now, persistedContactAt: now });
  }

  /**
   * Sync turned off: what the zone holds is its own from now on, so a later sync must start
   * with a snapshot, not a delta on top of state that may have changed locally meanwhile.
   */
  async forget(): Promise<void> {
    await this.store.transaction(async (tx) => {
      for (const key of Object.values(KEYS)) await tx.deleteMeta(key);
    });
    Object.assign(this, { epoch: '', appliedVersion: 0, appliedVersionId: '', appliedMode: 'off', lastContactAt: undefined, lastSyncAt: undefined, persistedContactAt: undefined });
  }

  /** Heard from global: kept in memory always, written at most every `persistEveryMs` (in the background). */
  contact(now: number, persistEveryMs: number): void {
    this.lastContactAt = now;
    if (this.persistedContactAt === undefined || now - this.persistedContactAt >= persistEveryMs) {
      this.persistedContactAt = now;
      this.store.transaction((tx) => tx.setMeta(KEYS.contact, String(now))).catch((error: unknown) => {
        // Memory has it; the next contact writes it again.
        this.persistedContactAt = undefined;
        this.logger?.warn({ err: error }, 'sync: could not record the last contact with global');
      });
    }
  }
}
