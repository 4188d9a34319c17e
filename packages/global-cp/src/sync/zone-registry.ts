import type { Clock, InstanceRow, Logger, Store, SyncMode, ZoneStatusRow } from '@meshauth/core';

/** What GET /zones shows for one zone. */
export interface ZoneStatusView {
  zone: string;
  connected: boolean;
  mode: SyncMode;
  ackedVersion: number;
  versionsBehind: number;
  /** How long the oldest change this zone has not acked has been waiting; 0 when caught up. */
  lagMs: number;
  /** Commit-to-ack time of the last acked change. */
  lastSyncLatencyMs: number | null;
  lastAckAt: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  connectedAt: string | null;
  disconnectedAt: string | null;
  softwareVersion: string;
  /** The global replica holding the zone's stream (or that last held it). */
  globalInstance: string;
}

/** Bounded: enough to measure lag of recent changes; older ones fall back to the oldest known. */
const MAX_COMMIT_TIMES = 100_000;
/** Own records are written, and everyone's read, this often. */
const SHARE_INTERVAL_MS = 1_000;
/** A replica not seen for this long is gone: the zones it held are shown disconnected. */
const INSTANCE_GONE_MS = 10_000;

export interface ZoneRegistryOptions {
  store: Store;
  /** This replica. */
  instance: string;
  clock: Clock;
  logger: Logger;
  /** The newest version this replica's memory holds. */
  globalVersion: () => number;
}

/**
 * Per-zone sync status, kept like Kuma's ZoneInsight: each replica records the streams it holds
 * (in memory at once, in the store every second) and reads everyone's, so every replica's
 * GET /zones lists every zone once and a restart keeps the history. A row whose replica stopped
 * heartbeating shows the zone disconnected.
 */
export class ZoneRegistry {
  /** Zones whose stream this replica holds or held, with the session that owns each record. */
  private readonly own = new Map<string, { row: ZoneStatusRow; session: object | undefined }>();
  private readonly dirty = new Set<string>();
  /** Everyone's rows as last read, and the replicas alive then. */
  private shared = new Map<string, ZoneStatusRow>();
  private alive = new Set<string>();
  /** The replicas seen heartbeating in the store at the last exchange. */
  private replicaRows: InstanceRow[] = [];
  private readonly commitTimes = new Map<number, number>();
  private readonly startedAt: number;
  private timer: NodeJS.Timeout | undefined;
  private sharing: Promise<void> | undefined;
  /** Whether the store's rows were read since start, and whether another replica was alive at the last exchange. */
  private readOnce = false;
  private othersWereAlive = false;

  constructor(private readonly options: ZoneRegistryOptions) {
    this.startedAt = options.clock.now();
    this.alive.add(options.instance);
  }

  async start(): Promise<void> {
    await this.share();
    this.timer = setInterval(() => void this.share(), SHARE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Writes this replica's changes and reads everyone's; one at a time. */
  share(): Promise<void> {
    this.sharing ??= this.exchange().finally(() => (this.sharing = undefined));
    return this.sharing;
  }

  private async exchange(): Promise<void> {
    const { store, instance, clock } = this.options;
    const now = clock.now();
    try {
      const alive = await store.heartbeatInstance({ instance, plane: 'global', startedAt: this.startedAt, lastSeenAt: now }, now - INSTANCE_GONE_MS);
      this.alive = new Set(alive.map((i) => i.instance));
      this.replicaRows = alive;
      const rows = [...this.dirty].map((zone) => this.own.get(zone)!.row);
      this.dirty.clear();
      // One transaction for every zone that changed since the last exchange, however many: on
      // SQLite each commit is an fsync on the event loop, so 10,000 zones' acks cost one.
      try {
        await store.upsertZoneStatus(rows);
      } catch (error) {
        for (const row of rows) this.dirty.add(row.zone);
        throw error;
      }
      // Everyone's rows change only while another replica is alive (or just was: its last
      // writes): alone, this replica's own records are the news, and reading 10,000 rows back
      // every second would only return them. Read once at start for the zones' history.
      const othersAlive = alive.some((i) => i.instance !== instance);
      if (!this.readOnce || othersAlive || this.othersWereAlive) {
        this.shared = new Map((await store.listZoneStatus()).map((row) => [row.zone, row]));
        this.readOnce = true;
      }
      this.othersWereAlive = othersAlive;
    } catch (error) {
      this.options.logger.warn({ err: error }, 'sync: could not share zone status through the store; showing what this replica knows');
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    const now = this.options.clock.now();
    for (const [zone, record] of this.own) {
      if (record.row.connected) {
        Object.assign(record.row, { connected: false, disconnectedAt: now });
        this.dirty.add(zone);
      }
    }
    await this.sharing;
    await this.exchange();
  }

  /** Every global replica alive in the store (heartbeat within the last 10 s), oldest first. */
  replicas(): { instance: string; startedAt: string; lastSeenAt: string }[] {
    const rows = this.replicaRows.length > 0 ? this.replicaRows : [{ instance: this.options.instance, plane: 'global', startedAt: this.startedAt, lastSeenAt: this.options.clock.now() }];
    return [...rows]
      .sort((a, b) => a.startedAt - b.startedAt)
      .map((r) => ({ instance: r.instance, startedAt: new Date(r.startedAt).toISOString(), lastSeenAt: new Date(r.lastSeenAt).toISOString() }));
  }

  committed(version: number, at: number): void {
    this.commitTimes.set(version, at);
    if (this.commitTimes.size > MAX_COMMIT_TIMES) this.commitTimes.delete(this.commitTimes.keys().next().value!);
  }

  connected(zone: string, session: object, mode: SyncMode, appliedVersion: number, softwareVersion: string): void {
    const record = this.record(zone);
    record.session = session;
    Object.assign(record.row, { globalInstance: this.options.instance, connected: true, mode, ackedVersion: appliedVersion, connectedAt: this.options.clock.now(), softwareVersion });
    this.dirty.add(zone);
  }

  /** Only the session that owns the zone's record may mark it disconnected (a newer one may have replaced it). */
  disconnected(zone: string, session: object): void {
    const record = this.own.get(zone);
    if (!record || record.session !== session) return;
    record.session = undefined;
    Object.assign(record.row, { connected: false, disconnectedAt: this.options.clock.now() });
    this.dirty.add(zone);
  }

  acked(zone: string, version: number): void {
    const record = this.record(zone);
    const now = this.options.clock.now();
    const committedAt = this.commitTimes.get(version);
    Object.assign(record.row, { ackedVersion: version, lastAckAt: now, lastSyncLatencyMs: committedAt === undefined ? null : Math.max(0, now - committedAt) });
    this.dirty.add(zone);
  }

  failed(zone: string, error: string): void {
    const record = this.record(zone);
    Object.assign(record.row, { lastError: error, lastErrorAt: this.options.clock.now() });
    this.dirty.add(zone);
  }

  /** Every zone once: this replica's own records where it holds the stream, the store's for the rest. */
  list(): ZoneStatusView[] {
    const rows = new Map(this.shared);
    for (const [zone, { row }] of this.own) {
      const other = rows.get(zone);
      if (!other || (row.connectedAt ?? 0) >= (other.connectedAt ?? 0)) rows.set(zone, row);
    }
    return [...rows.values()].sort((a, b) => a.zone.localeCompare(b.zone)).map((r) => this.view(r));
  }

  private view(r: ZoneStatusRow): ZoneStatusView {
    const version = this.options.globalVersion();
    const mode = r.mode as SyncMode;
    const behind = mode === 'off' ? 0 : Math.max(0, version - r.ackedVersion);
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const oldestPending = behind === 0 ? undefined : (this.commitTimes.get(r.ackedVersion + 1) ?? this.startedAt);
    const connected = r.connected && (r.globalInstance === this.options.instance ? this.own.get(r.zone)?.session !== undefined : this.alive.has(r.globalInstance));
    return {
      zone: r.zone,
      connected,
      mode,
      ackedVersion: r.ackedVersion,
      versionsBehind: behind,
      lagMs: oldestPending === undefined ? 0 : Math.max(0, this.options.clock.now() - oldestPending),
      lastSyncLatencyMs: r.lastSyncLatencyMs,
      lastAckAt: iso(r.lastAckAt),
      lastError: r.lastError,
      lastErrorAt: iso(r.lastErrorAt),
      connectedAt: iso(r.connectedAt),
      disconnectedAt: iso(r.disconnectedAt),
      softwareVersion: r.softwareVersion,
      globalInstance: r.globalInstance,
    };
  }

  private record(zone: string): { row: ZoneStatusRow; session: object | undefined } {
    let record = this.own.get(zone);
    if (!record) {
      // Continue the zone's history (last error, last ack) from the store where there is one.
      const known = this.shared.get(zone);
      record = {
        session: undefined,
        row: known
          ? { ...known }
          : {
              zone,
              globalInstance: this.options.instance,
              connected: false,
              mode: 'off',
              ackedVersion: 0,
              lastSyncLatencyMs: null,
              lastAckAt: null,
              lastError: null,
              lastErrorAt: null,
              connectedAt: null,
              disconnectedAt: null,
              softwareVersion: '',
            },
      };
      this.own.set(zone, record);
    }
    return record;
  }
}
