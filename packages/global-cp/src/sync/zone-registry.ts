import type { Clock, SyncMode } from '@meshauth/core';

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
}

interface ZoneRecord {
  zone: string;
  connected: boolean;
  session: object | undefined;
  mode: SyncMode;
  ackedVersion: number;
  lastSyncLatencyMs: number | null;
  lastAckAt: number | null;
  lastError: string | null;
  lastErrorAt: number | null;
  connectedAt: number | null;
  disconnectedAt: number | null;
  softwareVersion: string;
}

/** Bounded: enough to measure lag of recent changes; older ones fall back to the oldest known. */
const MAX_COMMIT_TIMES = 100_000;

/** Per-zone sync status, kept by the sync server and read by GET /zones and the metrics. */
export class ZoneRegistry {
  private readonly zones = new Map<string, ZoneRecord>();
  private readonly commitTimes = new Map<number, number>();
  private readonly startedAt: number;

  constructor(
    private readonly clock: Clock,
    private readonly globalVersion: () => number,
  ) {
    this.startedAt = clock.now();
  }

  committed(version: number, at: number): void {
    this.commitTimes.set(version, at);
    if (this.commitTimes.size > MAX_COMMIT_TIMES) this.commitTimes.delete(this.commitTimes.keys().next().value!);
  }

  connected(zone: string, session: object, mode: SyncMode, appliedVersion: number, softwareVersion: string): void {
    const record = this.record(zone);
    Object.assign(record, { connected: true, session, mode, ackedVersion: appliedVersion, connectedAt: this.clock.now(), softwareVersion });
  }

  /** Only the session that owns the zone's record may mark it disconnected (a newer one may have replaced it). */
  disconnected(zone: string, session: object): void {
    const record = this.zones.get(zone);
    if (!record || record.session !== session) return;
    Object.assign(record, { connected: false, session: undefined, disconnectedAt: this.clock.now() });
  }

  acked(zone: string, version: number): void {
    const record = this.record(zone);
    const now = this.clock.now();
    record.ackedVersion = version;
    record.lastAckAt = now;
    const committedAt = this.commitTimes.get(version);
    record.lastSyncLatencyMs = committedAt === undefined ? null : Math.max(0, now - committedAt);
  }

  failed(zone: string, error: string): void {
    const record = this.record(zone);
    record.lastError = error;
    record.lastErrorAt = this.clock.now();
  }

  list(): ZoneStatusView[] {
    return [...this.zones.values()].sort((a, b) => a.zone.localeCompare(b.zone)).map((r) => this.view(r));
  }

  private view(r: ZoneRecord): ZoneStatusView {
    const version = this.globalVersion();
    const behind = r.mode === 'off' ? 0 : Math.max(0, version - r.ackedVersion);
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const oldestPending = behind === 0 ? undefined : (this.commitTimes.get(r.ackedVersion + 1) ?? this.startedAt);
    return {
      zone: r.zone,
      connected: r.connected,
      mode: r.mode,
      ackedVersion: r.ackedVersion,
      versionsBehind: behind,
      lagMs: oldestPending === undefined ? 0 : Math.max(0, this.clock.now() - oldestPending),
      lastSyncLatencyMs: r.lastSyncLatencyMs,
      lastAckAt: iso(r.lastAckAt),
      lastError: r.lastError,
      lastErrorAt: iso(r.lastErrorAt),
      connectedAt: iso(r.connectedAt),
      disconnectedAt: iso(r.disconnectedAt),
      softwareVersion: r.softwareVersion,
    };
  }

  private record(zone: string): ZoneRecord {
    let record = this.zones.get(zone);
    if (!record) {
      record = {
        zone,
        connected: false,
        session: undefined,
        mode: 'off',
        ackedVersion: 0,
        lastSyncLatencyMs: null,
        lastAckAt: null,
        lastError: null,
        lastErrorAt: null,
        connectedAt: null,
        disconnectedAt: null,
        softwareVersion: '',
      };
      this.zones.set(zone, record);
    }
    return record;
  }
}
