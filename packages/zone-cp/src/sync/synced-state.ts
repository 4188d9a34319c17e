import type { Logger, Store, StoreTx, SyncMode } from '@meshauth/core';

/**
 * The position is one meta row, written by every batch the zone applies: one row to update in
 * that transaction, where six keys were six (the apply of a live change is a dozen statements,
 * and at 10,000 zones every one of them counts). The last contact has a row of its own, written
 * by heartbeats between batches; a batch's own moment of contact is its `syncedAt`.
 */
const POSITION_KEY = 'sync.position';
const CONTACT_KEY = 'sync.lastContactAt';
/**
 * How stores written before the position was one row hold it. Read when that row is absent, and
 * beside it: during a rolling upgrade of a zone's replicas on one database, a replica still on
 * the old code that leads writes these keys after the row, and then they are the newer position.
 */
const LEGACY_KEYS = { epoch: 'sync.globalEpoch', version: 'sync.appliedVersion', versionId: 'sync.appliedVersionId', mode: 'sync.appliedMode', syncedAt: 'sync.lastSyncAt' } as const;

interface Position {
  epoch: string;
  version: number;
  versionId: string;
  mode: SyncMode;
  syncedAt: number;
}

/**
 * Whether `a` is a later position than `b`: within one epoch of global the versions say (replicas'
 * clocks may differ); across epochs, the moment each was applied.
 */
function isLater(a: Position, b: Position): boolean {
  return a.epoch === b.epoch ? a.version > b.version : a.syncedAt > b.syncedAt;
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
  /** Old keys older than the row were read: the next batch deletes them (they cost reads on every refresh). */
  private staleLegacyKeys = false;

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

  /** The row or the old keys, whichever a batch wrote last (see LEGACY_KEYS). */
  private async readPosition(): Promise<Position | undefined> {
    const meta = (key: string) => this.store.read.getMeta(key);
    const [row, legacyVersion] = await Promise.all([meta(POSITION_KEY), meta(LEGACY_KEYS.version)]);
    const position = row === undefined ? undefined : (JSON.parse(row) as Position);
    const legacy = legacyVersion === undefined ? undefined : await this.readLegacyPosition(Number(legacyVersion));
    this.staleLegacyKeys = legacy !== undefined && position !== undefined && !isLater(legacy, position);
    if (legacy === undefined || this.staleLegacyKeys) return position;
    return legacy;
  }

  private async readLegacyPosition(version: number): Promise<Position> {
    const meta = (key: string) => this.store.read.getMeta(key);
    const [epoch, versionId, mode, syncedAt] = await Promise.all([LEGACY_KEYS.epoch, LEGACY_KEYS.versionId, LEGACY_KEYS.mode, LEGACY_KEYS.syncedAt].map(meta));
    return { epoch: epoch ?? '', version, versionId: versionId ?? '', mode: (mode as SyncMode | undefined) ?? 'off', syncedAt: Number(syncedAt ?? '0') };
  }

  /** Call inside the transaction that applies the batch: both commit or neither does. */
  async recordApplied(tx: StoreTx, epoch: string, version: number, versionId: string, mode: SyncMode, now: number): Promise<void> {
    const position: Position = { epoch, version, versionId, mode, syncedAt: now };
    await tx.setMeta(POSITION_KEY, JSON.stringify(position));
    if (this.staleLegacyKeys) {
      for (const key of Object.values(LEGACY_KEYS)) await tx.deleteMeta(key);
    }
  }

  /** After the transaction committed: the in-memory view follows. */
  applied(epoch: string, version: number, versionId: string, mode: SyncMode, now: number): void {
    Object.assign(this, { epoch, appliedVersion: version, appliedVersionId: versionId, appliedMode: mode, lastContactAt: now, lastSyncAt: now, persistedContactAt: now, staleLegacyKeys: false });
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
