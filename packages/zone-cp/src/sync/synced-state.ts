import type { Logger, Store, StoreTx, SyncMode } from '@meshauth/core';

/**
 * The position is one meta row, written by every batch the zone applies: one row to update in
 * that transaction, where six keys were six (the apply of a live change is a dozen statements,
 * and at 10,000 zones every one of them counts). The last contact has a row of its own, written
 * by heartbeats between batches; a batch's own moment of contact is its `syncedAt`.
 */
const POSITION_KEY = 'sync.position';
const CONTACT_KEY = 'sync.lastContactAt';
/** How stores written before the position was one row hold it; read when that row is absent. */
const LEGACY_KEYS = { epoch: 'sync.globalEpoch', version: 'sync.appliedVersion', versionId: 'sync.appliedVersionId', mode: 'sync.appliedMode', syncedAt: 'sync.lastSyncAt' } as const;

interface Position {
  epoch: string;
  version: number;
  versionId: string;
  mode: SyncMode;
  syncedAt: number;
}

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
    const [position, contact] = await Promise.all([this.readPosition(), meta(CONTACT_KEY)]);
    this.epoch = position?.epoch ?? '';
    this.appliedVersion = position?.version ?? 0;
    this.appliedVersionId = position?.versionId ?? '';
    this.appliedMode = position?.mode ?? 'off';
    this.lastSyncAt = position?.syncedAt;
    const contacts = [contact === undefined ? undefined : Number(contact), position?.syncedAt].filter((at) => at !== undefined);
    this.lastContactAt = contacts.length === 0 ? undefined : Math.max(...contacts);
    this.persistedContactAt = this.lastContactAt;
  }

  private async readPosition(): Promise<Position | undefined> {
    const meta = (key: string) => this.store.read.getMeta(key);
    const row = await meta(POSITION_KEY);
    if (row !== undefined) return JSON.parse(row) as Position;
    const [epoch, version, versionId, mode, syncedAt] = await Promise.all(Object.values(LEGACY_KEYS).map(meta));
    if (version === undefined) return undefined;
    return { epoch: epoch ?? '', version: Number(version), versionId: versionId ?? '', mode: (mode as SyncMode | undefined) ?? 'off', syncedAt: Number(syncedAt ?? '0') };
  }

  /** Call inside the transaction that applies the batch: both commit or neither does. */
  async recordApplied(tx: StoreTx, epoch: string, version: number, versionId: string, mode: SyncMode, now: number): Promise<void> {
    const position: Position = { epoch, version, versionId, mode, syncedAt: now };
    await tx.setMeta(POSITION_KEY, JSON.stringify(position));
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
      for (const key of [POSITION_KEY, CONTACT_KEY, ...Object.values(LEGACY_KEYS)]) await tx.deleteMeta(key);
    });
    Object.assign(this, { epoch: '', appliedVersion: 0, appliedVersionId: '', appliedMode: 'off', lastContactAt: undefined, lastSyncAt: undefined, persistedContactAt: undefined });
  }

  /** Heard from global: kept in memory always, written at most every `persistEveryMs` (in the background). */
  contact(now: number, persistEveryMs: number): void {
    this.lastContactAt = now;
    if (this.persistedContactAt === undefined || now - this.persistedContactAt >= persistEveryMs) {
      this.persistedContactAt = now;
      this.store.transaction((tx) => tx.setMeta(CONTACT_KEY, String(now))).catch((error: unknown) => {
        // Memory has it; the next contact writes it again.
        this.persistedContactAt = undefined;
        this.logger?.warn({ err: error }, 'sync: could not record the last contact with global');
      });
    }
  }
}
